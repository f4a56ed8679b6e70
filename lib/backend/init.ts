/**
 * Picks, initialises and activates the TensorFlow.js backend: `tensorflow`
 * (tfjs-node-gpu, else tfjs-node), `webgpu` (a hardware adapter; a software
 * one only when asked for by name), `wasm` (with the training kernels of
 * `register.ts`, listed by `describeBackend()`), `cpu` (with the faster filter gradient of
 * `cpu_kernels.ts`). `auto` tries them in that order.
 *
 * @example
 * ```ts
 * import { initBackend } from "./init.ts";
 * const choice = await initBackend(); // CNN_BACKEND, else auto
 * console.log(choice.name, choice.report);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { registerCpuTrainingKernels } from "./cpu_kernels.ts";
import {
  installFusedBatchNorm,
  installFusedOptimizers,
  registerWasmTrainingKernels,
} from "./register.ts";
import { loadSimdKernels } from "./simd_kernels.ts";
import { kernelThreadsWanted, startKernelThreads } from "./kernel_threads.ts";
import { withSharedWasmHeap } from "./shared_heap.ts";
import {
  BACKEND_NAMES,
  type BackendName,
  backendOption,
  parseBackendName,
} from "./options.ts";

export { BACKEND_NAMES, type BackendName, parseBackendName };

/** Options of {@linkcode initBackend}. */
export interface InitBackendOptions {
  /**
   * Backend to use, or "auto" for the fastest that works. A named backend
   * that cannot start is an error, not a silent fallback.
   * Default: the `backend` setting of `options.ts` (`CNN_BACKEND`), else
   * "auto".
   */
  backend?: BackendName | "auto";
  /**
   * Print the report (what was chosen, why faster ones were skipped) to
   * stderr, once per process and choice. Default: true.
   */
  verbose?: boolean;
  /**
   * Let the wasm backend's kernels split their work with a second thread
   * (a worker), where the `kernelThreads` setting (`CNN_KERNEL_THREADS`)
   * and the cores allow it; false
   * where every core is already busy (a data-parallel replica).
   * Default: true.
   */
  kernelThreads?: boolean;
}

/** What {@linkcode initBackend} chose, and why faster ones were skipped. */
export interface BackendChoice {
  /** The backend now active. */
  name: BackendName;
  /** What runs it, e.g. "XNNPACK SIMD, 1 thread" or the adapter's name. */
  detail: string;
  /** Faster backends that were skipped, each with the reason. */
  skipped: { name: BackendName; reason: string }[];
  /** One line saying all of the above, as printed when `verbose`. */
  report: string;
}

type _Attempt = { ok: true; detail: string } | { ok: false; reason: string };

const _reported = new Set<string>();

function _firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text;
}

/**
 * tfjs-backend-cpu greets every Node-like runtime (Deno reports as Node)
 * with an "install tfjs-node" banner on its first tensor; marking the
 * backend as already used skips it without hiding any other warning.
 */
function _silenceCpuBanner(): void {
  const cpu = tf.findBackend("cpu") as { firstUse?: boolean } | null;
  if (cpu !== null) cpu.firstUse = false;
}

async function _activate(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

/**
 * tfjs-node is looked up through the import map only: a literal
 * `npm:` import would make Deno download it (and fail on its install
 * script) on every run of every user who has not opted in.
 */
async function _tryTensorflow(): Promise<_Attempt> {
  const reasons: string[] = [];
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    let url: string;
    try {
      url = import.meta.resolve(pkg);
    } catch {
      continue;
    }
    try {
      await import(url);
    } catch (error) {
      reasons.push(`${pkg}: ${_firstLine(error)}`);
      continue;
    }
    if (await _activate("tensorflow")) return { ok: true, detail: pkg };
    reasons.push(`${pkg} loaded but its backend did not start`);
  }
  return {
    ok: false,
    reason: reasons.length > 0
      ? reasons.join("; ")
      : "native binding not installed, see README",
  };
}

/** Device nodes through which a Linux machine exposes a hardware GPU. */
const _GPU_DEVICE_NODES = [
  "/dev/dri",
  "/dev/nvidiactl",
  "/dev/nvidia0",
  "/dev/dxg",
  "/dev/kfd",
];

function _hasGpuDeviceNode(): boolean {
  return _GPU_DEVICE_NODES.some((path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch {
      return false;
    }
  });
}

async function _tryWebgpu(byName: boolean): Promise<_Attempt> {
  const gpu = (navigator as { gpu?: GPU }).gpu;
  if (gpu === undefined) return { ok: false, reason: "no navigator.gpu" };
  // Without a GPU device node only a software adapter can answer; probing it
  // loads the Vulkan driver (300 ms, and noise on stderr) for nothing.
  if (!byName && Deno.build.os === "linux" && !_hasGpuDeviceNode()) {
    return {
      ok: false,
      reason: "no GPU device (/dev/dri, /dev/nvidia*); " +
        "CNN_BACKEND=webgpu tries a software adapter",
    };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    return { ok: false, reason: `no adapter: ${_firstLine(error)}` };
  }
  if (adapter === null) {
    return { ok: false, reason: "no adapter (no Vulkan driver, see README)" };
  }
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const description = info?.description || info?.vendor || "unknown adapter";
  const software = (info as { isFallbackAdapter?: boolean } | undefined)
    ?.isFallbackAdapter === true;
  if (software && !byName) {
    return {
      ok: false,
      reason: `only a software adapter (${description}); ` +
        "CNN_BACKEND=webgpu uses it anyway",
    };
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await _activate("webgpu"))) {
    return { ok: false, reason: "tfjs-backend-webgpu did not start" };
  }
  return { ok: true, detail: `${description}${software ? " (software)" : ""}` };
}

async function _tryWasm(threads: boolean): Promise<_Attempt> {
  try {
    await import("@tensorflow/tfjs-backend-wasm");
  } catch (error) {
    return { ok: false, reason: _firstLine(error) };
  }
  // A manifest or tfjs-internals mismatch is the project's bug or a tfjs
  // upgrade: an error, not a reason to skip to a slower backend.
  registerWasmTrainingKernels();
  installFusedOptimizers();
  installFusedBatchNorm();
  // Two threads need the heap shared from the start (shared_heap.ts).
  const shared = threads && kernelThreadsWanted();
  const activated = shared
    ? await withSharedWasmHeap(() => _activate("wasm"))
    : await _activate("wasm");
  if (!activated) {
    return { ok: false, reason: "the WebAssembly module did not load" };
  }
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  const own = simd && await loadSimdKernels();
  const threaded = own && shared && await startKernelThreads();
  return {
    ok: true,
    detail: `XNNPACK${simd ? " SIMD" : ""}` +
      `${own ? " + the project's SIMD training kernels" : ""}, ` +
      (threaded
        ? "on 2 threads (the project's kernels, with a kernel worker over " +
          "a shared heap; XNNPACK's on 1)"
        : "1 thread (tfjs disables its wasm threads under Deno)"),
  };
}

async function _tryCpu(): Promise<_Attempt> {
  await import("@tensorflow/tfjs-backend-cpu");
  registerCpuTrainingKernels();
  if (!(await _activate("cpu"))) {
    return { ok: false, reason: "the cpu backend did not start" };
  }
  return { ok: true, detail: "pure JavaScript, 1 thread" };
}

function _attempt(
  name: BackendName,
  byName: boolean,
  threads: boolean,
): Promise<_Attempt> {
  switch (name) {
    case "tensorflow":
      return _tryTensorflow();
    case "webgpu":
      return _tryWebgpu(byName);
    case "wasm":
      return _tryWasm(threads);
    case "cpu":
      return _tryCpu();
  }
}

function _requested(options: InitBackendOptions): BackendName | "auto" {
  if (options.backend !== undefined) return parseBackendName(options.backend);
  return backendOption("backend");
}

/**
 * Chooses, initialises and activates a backend, and says why faster ones
 * were skipped. Safe to call again (e.g. once per notebook cell).
 *
 * @example
 * ```ts
 * import { initBackend } from "./init.ts";
 * const { name, report } = await initBackend({ backend: "wasm" });
 * console.log(name, report);
 * ```
 */
export async function initBackend(
  options: InitBackendOptions = {},
): Promise<BackendChoice> {
  const requested = _requested(options);
  // The cpu backend always exists (tfjs falls back to it for some data
  // movement), so its banner is silenced whichever backend wins.
  await import("@tensorflow/tfjs-backend-cpu");
  _silenceCpuBanner();
  const candidates = requested === "auto" ? BACKEND_NAMES : [requested];
  const skipped: BackendChoice["skipped"] = [];
  for (const name of candidates) {
    const attempt = await _attempt(
      name,
      requested !== "auto",
      options.kernelThreads ?? true,
    );
    if (!attempt.ok) {
      skipped.push({ name, reason: attempt.reason });
      continue;
    }
    await tf.ready();
    _silenceCpuBanner();
    const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
    const report = `backend ${name} (${attempt.detail})` +
      (why === "" ? "" : `; skipped ${why}`);
    const choice = { name, detail: attempt.detail, skipped, report };
    if ((options.verbose ?? true) && !_reported.has(report)) {
      _reported.add(report);
      console.error(report);
    }
    return choice;
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
  throw new Error(
    `No TensorFlow.js backend could start (${why}). ` +
      "Set CNN_BACKEND=cpu, or see the README's backend section.",
  );
}
