/**
 * `deno task build-kernels`: compiles every `lib/backend/kernels/*.c` file
 * (sorted by name, so a new kernel family's file is built without changing
 * this script; `kernels.h` holds what they share) into the committed
 * `lib/backend/kernels/kernels.wasm` and, with shared memory
 * and atomics for the kernel threads (`lib/backend/kernel_threads.ts`),
 * `lib/backend/kernels/kernels_shared.wasm`, with Debian's clang and lld
 * (`apt-get install clang lld`). The build is deterministic (no debug
 * information, no paths, names stripped), so CI rebuilds both and compares.
 *
 * The module runs inside tfjs-backend-wasm's memory, so it must own no
 * memory: the build fails if it has a data section or if its code touches
 * the stack pointer (checked with llvm-objdump when it is installed).
 *
 * ```sh
 * deno task build-kernels            # rebuild in place
 * deno task build-kernels --check    # rebuild to a temporary file; exit 1 if it differs
 * ```
 *
 * @module
 */
import { parseCli, runCli } from "./_cli.ts";

const USAGE = "usage: deno task build-kernels [--check]";
const SOURCE_DIR = "lib/backend/kernels";
const TARGET = "lib/backend/kernels/kernels.wasm";
const SHARED_TARGET = "lib/backend/kernels/kernels_shared.wasm";

/** clang flags: wasm32 with SIMD and bulk memory, the memory imported. */
export const CLANG_FLAGS: readonly string[] = [
  "--target=wasm32",
  "-O3",
  "-msimd128",
  "-mbulk-memory",
  "-nostdlib",
  "-Wall",
  "-Werror",
  "-Wl,--no-entry",
  "-Wl,--import-memory",
  "-Wl,--strip-all",
];

/**
 * The extra flags of the shared-memory build: its memory is a shared
 * `WebAssembly.Memory` of up to 4 GiB (tfjs-backend-wasm's heap, made
 * shared by `shared_heap.ts`, declares that maximum) that the kernel
 * threads' instances all import.
 */
export const SHARED_FLAGS: readonly string[] = [
  "-matomics",
  "-Wl,--shared-memory",
  `-Wl,--max-memory=${2 ** 32}`,
];

const _DATA_SECTION = 11;

/** The ids of a wasm binary's top-level sections. */
function _sectionIds(bytes: Uint8Array): number[] {
  const ids: number[] = [];
  let at = 8; // magic and version
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0;; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

async function _run(cmd: string, args: string[]): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args }).output();
  } catch {
    throw new Error(
      `${cmd} not found: install Debian's clang and lld ` +
        "(apt-get install -y clang lld).",
    );
  }
  const text = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} failed:\n${text.decode(out.stderr)}`);
  }
  return text.decode(out.stdout);
}

async function _objdump(): Promise<string | undefined> {
  for (const cmd of ["llvm-objdump", "/usr/lib/llvm-14/bin/llvm-objdump"]) {
    try {
      await new Deno.Command(cmd, { args: ["--version"] }).output();
      return cmd;
    } catch { /* try the next */ }
  }
  return undefined;
}

/**
 * The C sources of the kernels: every `*.c` file of `dir`, sorted by name
 * (the link order, so the build stays deterministic).
 *
 * @example
 * ```ts
 * import { kernelSources } from "./build_kernels.ts";
 * console.log(await kernelSources("lib/backend/kernels"));
 * ```
 */
export async function kernelSources(dir: string): Promise<string[]> {
  const sources: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".c")) {
      sources.push(`${dir}/${entry.name}`);
    }
  }
  if (sources.length === 0) throw new Error(`no *.c files in ${dir}`);
  return sources.sort();
}

/** Compiles the kernels to `output` and checks that they own no memory. */
async function build(output: string, shared: boolean): Promise<void> {
  const flags = shared ? [...CLANG_FLAGS, ...SHARED_FLAGS] : CLANG_FLAGS;
  const sources = await kernelSources(SOURCE_DIR);
  const named = sources.join(", ");
  await _run("clang", [...flags, "-o", output, ...sources]);
  const bytes = await Deno.readFile(output);
  if (_sectionIds(bytes).includes(_DATA_SECTION)) {
    throw new Error(
      `${named} has static data; the kernels run in tfjs's memory and must ` +
        "have none (no constant tables, no string literals).",
    );
  }
  const objdump = await _objdump();
  if (objdump === undefined) {
    console.error("build-kernels: llvm-objdump not found; stack check skipped");
  } else if (/global\.[gs]et/.test(await _run(objdump, ["-d", output]))) {
    throw new Error(
      `${named} uses the stack (a local array or a struct whose address ` +
        "is taken); the kernels run in tfjs's memory and must not.",
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { check: { type: "boolean" } });
  const root = new URL("..", import.meta.url).pathname;
  Deno.chdir(root);
  const targets: [string, boolean][] = [[TARGET, false], [SHARED_TARGET, true]];
  if (values.check) {
    let status = 0;
    for (const [target, shared] of targets) {
      const tmp = await Deno.makeTempFile({ suffix: ".wasm" });
      try {
        await build(tmp, shared);
        const [fresh, committed] = await Promise.all([
          Deno.readFile(tmp),
          Deno.readFile(target).catch(() => new Uint8Array()),
        ]);
        const same = fresh.length === committed.length &&
          fresh.every((b, i) => b === committed[i]);
        if (!same) {
          console.error(
            `build-kernels: ${target} differs from a fresh build of ` +
              `${SOURCE_DIR}/*.c; run \`deno task build-kernels\` and commit it.`,
          );
          status = 1;
        } else {
          console.log(`build-kernels: ${target} matches a fresh build`);
        }
      } finally {
        await Deno.remove(tmp);
      }
    }
    return status;
  }
  for (const [target, shared] of targets) {
    await build(target, shared);
    console.log(`build-kernels: wrote ${target}`);
  }
  return 0;
}

if (import.meta.main) runCli(USAGE, main);
