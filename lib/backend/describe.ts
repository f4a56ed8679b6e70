/**
 * {@linkcode describeBackend}: what the project changes in TensorFlow.js,
 * from the manifest (`manifest.ts`), with the tfjs versions in use and the
 * backend settings, as data and as text to print. {@linkcode backendReadme}
 * renders the same as `lib/backend/README.md`.
 *
 * @example
 * ```ts
 * import { describeBackend } from "./describe.ts";
 * console.log(describeBackend().text);
 * ```
 *
 * @module
 */
import {
  BACKEND_MANIFEST,
  type ManifestEntry,
  type ManifestFamily,
} from "./manifest.ts";
import { KERNEL_SIGNATURES } from "./bindings.ts";
import { type BackendOptions, backendOptions } from "./options.ts";
import { TFJS_CHECKED_VERSION, tfjsVersions } from "./tfjs_internals.ts";

/** What {@linkcode describeBackend} returns. */
export interface BackendDescription {
  /** The tfjs version the kernels and patches were checked against. */
  checkedAgainst: string;
  /** The tfjs packages in use and their versions. */
  versions: Record<string, string>;
  /** The settings now (`options.ts`), or the error reading them. */
  options: BackendOptions | { error: string };
  /** Every kernel, gradient and patch (`manifest.ts`). */
  entries: readonly ManifestEntry[];
  /** The C kernels' exports, with their arguments (`bindings.ts`). */
  cKernels: { name: string; file: string; args: readonly string[] }[];
  /** All of the above as readable text. */
  text: string;
}

const _FAMILIES: readonly ManifestFamily[] = [
  "convolution",
  "dense",
  "pooling",
  "normalisation",
  "elementwise",
  "optimizers",
  "data movement",
  "memory",
];

function _options(): BackendOptions | { error: string } {
  try {
    return backendOptions();
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Describes the project's changes to TensorFlow.js: every kernel added or
 * replaced, project kernel, gradient override and patch, each with its C
 * entries, fallback, threading and checked tfjs version; the tfjs versions
 * in use; and the settings. `text` is the same for printing.
 *
 * @example
 * ```ts
 * import { describeBackend } from "./describe.ts";
 * const { entries, text } = describeBackend();
 * console.log(entries.length, text);
 * ```
 */
export function describeBackend(): BackendDescription {
  const versions = tfjsVersions();
  const options = _options();
  const lines = [
    `lib/backend: ${BACKEND_MANIFEST.length} kernels, gradients and patches, ` +
    `checked against tfjs ${TFJS_CHECKED_VERSION}`,
    "tfjs in use: " +
    Object.entries(versions).map(([k, v]) => `${k} ${v}`).join(", "),
    "settings: " + JSON.stringify(options),
  ];
  for (const family of _FAMILIES) {
    const entries = BACKEND_MANIFEST.filter((e) => e.family === family);
    if (entries.length === 0) continue;
    lines.push("", `${family}:`);
    for (const e of entries) {
      lines.push(
        `  ${e.kind} ${e.name} (${e.backend}${
          e.threads ? ", threads" : ""
        }): ${e.summary}`,
        `    C: ${e.c.length > 0 ? e.c.join(", ") : "none"}; ` +
          `fallback: ${e.fallback}; tfjs ${e.tfjs}`,
      );
    }
  }
  return {
    checkedAgainst: TFJS_CHECKED_VERSION,
    versions,
    options,
    entries: BACKEND_MANIFEST,
    cKernels: Object.entries(KERNEL_SIGNATURES).map(([name, s]) => ({
      name,
      file: s.file,
      args: s.args,
    })),
    text: lines.join("\n"),
  };
}

function _cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/**
 * `lib/backend/README.md`, generated from the manifest and the C
 * bindings (`deno task backend-readme` writes it; a test compares).
 *
 * @example
 * ```ts
 * import { backendReadme } from "./describe.ts";
 * console.log(backendReadme().split("\n")[0]);
 * ```
 */
export function backendReadme(): string {
  const out = [
    "# lib/backend",
    "",
    "<!-- Generated from lib/backend/manifest.ts and bindings.ts by " +
    "`deno task backend-readme`; do not edit by hand. -->",
    "",
    "The TensorFlow.js backends of the project. `initBackend()` picks the",
    "fastest that works (`tensorflow`, `webgpu`, `wasm`, `cpu`; the",
    "`CNN_BACKEND` environment variable or the `backend` option overrides",
    "it). On `wasm`, the project adds the training kernels that",
    "tfjs-backend-wasm lacks and replaces slow ones by its own C kernels",
    "(`kernels/*.c`, built into `kernels/kernels.wasm` by",
    "`deno task build-kernels`), which can share their work with a second",
    "thread. `describeBackend()` prints the same list at run time.",
    "",
    "## Settings",
    "",
    "| Option | Environment | Default | Meaning |",
    "| --- | --- | --- | --- |",
    "| `backend` | `CNN_BACKEND` | `auto` | The backend to start. |",
    "| `simdKernels` | `CNN_SIMD_KERNELS=off` | on | The project's C kernels on `wasm`; off runs their JavaScript fallbacks. |",
    "| `kernelThreads` | `CNN_KERNEL_THREADS` | `auto` (2 on 2+ cores) | Threads the project's kernels compute on (1 or 2). |",
    "",
    "## Kernels, gradients and patches",
    "",
    `Checked against tfjs ${TFJS_CHECKED_VERSION}. Every tfjs internal used`,
    "is checked when used (`tfjs_internals.ts`): a missing one is an error",
    "naming the versions found, never a silent slowdown.",
  ];
  for (const family of _FAMILIES) {
    const entries = BACKEND_MANIFEST.filter((e) => e.family === family);
    if (entries.length === 0) continue;
    out.push(
      "",
      `### ${family[0].toUpperCase()}${family.slice(1)}`,
      "",
      "| Kind | Name | Backend | What | C entries | Fallback | Threads | tfjs | Test |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const e of entries) {
      out.push(
        "| " + [
          e.kind,
          `\`${e.name}\``,
          e.backend,
          _cell(e.summary),
          e.c.length > 0 ? e.c.map((c) => `\`${c}\``).join(", ") : "none",
          _cell(e.fallback),
          e.threads ? "yes" : "no",
          e.tfjs,
          `\`${e.test}\``,
        ].join(" | ") + " |",
      );
    }
  }
  out.push(
    "",
    "## C kernels",
    "",
    "Each export of `kernels.wasm` and `kernels_shared.wasm`, with its",
    "arguments (`ptr`: a byte address in the wasm heap). The module's exports",
    "are checked against this table when it loads.",
    "",
    "| Kernel | File | Thread | Arguments |",
    "| --- | --- | --- | --- |",
  );
  for (const [name, s] of Object.entries(KERNEL_SIGNATURES)) {
    const threaded = "threaded" in s && s.threaded === true;
    out.push(
      `| \`${name}\` | \`kernels/${s.file}\` | ${threaded ? "yes" : "no"} | ${
        s.args.join(", ")
      } |`,
    );
  }
  return out.join("\n") + "\n";
}
