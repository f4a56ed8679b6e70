/**
 * A shared heap for tfjs-backend-wasm, so that a second thread can compute
 * on its tensors in place.
 *
 * tfjs-backend-wasm's single-threaded module defines its own memory, not
 * shared (its threaded build does not start under Deno, see the README).
 * A defined memory with a maximum differs from a shared one by one flag
 * byte of the memory section; {@linkcode withSharedWasmHeap} flips it in
 * the module tfjs instantiates while it runs, so the heap becomes a
 * `SharedArrayBuffer` that the project's kernel thread
 * (`kernel_threads.ts`) instantiates its kernels over. Nothing else
 * changes: the module still never uses atomics, and a shared memory grows
 * in place.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import "@tensorflow/tfjs-backend-wasm";
 * import { withSharedWasmHeap } from "./shared_heap.ts";
 * await withSharedWasmHeap(() => tf.setBackend("wasm"));
 * ```
 *
 * @module
 */
import { memoryFlagError } from "./tfjs_internals.ts";

const _MEMORY_SECTION = 5;
/** Memory limits flags: 1 = has a maximum, 3 = has a maximum and shared. */
const _LIMITS_WITH_MAX = 1;
const _LIMITS_SHARED = 3;

/**
 * `bytes` (a WebAssembly module) with its one defined, non-shared memory
 * made shared; `undefined` when the module has no such memory (none, an
 * imported one, already shared, or no maximum, which a shared memory
 * needs).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { sharedMemoryModule } from "./shared_heap.ts";
 * // The smallest module with a memory of 1 to 2 pages: magic, version, and a
 * // memory section (id 5, 4 bytes, 1 memory, flags 1 = has a maximum, 1, 2).
 * const bytes = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 4, 1, 1, 1, 2]);
 * const patched = sharedMemoryModule(bytes) ?? bytes;
 * assert.notEqual(patched, bytes);
 * assert.ok(WebAssembly.validate(patched.slice())); // valid, its memory shared
 * ```
 */
export function sharedMemoryModule(bytes: Uint8Array): Uint8Array | undefined {
  if (
    bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 ||
    bytes[2] !== 0x73 || bytes[3] !== 0x6d
  ) {
    return undefined;
  }
  let at = 8; // magic and version
  const leb = (): number => {
    let value = 0;
    for (let shift = 0; at < bytes.length; shift += 7) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) break;
    }
    return value;
  };
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === _MEMORY_SECTION) {
      if (leb() !== 1 || bytes[at] !== _LIMITS_WITH_MAX) return undefined;
      const patched = bytes.slice();
      patched[at] = _LIMITS_SHARED;
      return patched;
    }
    at = end;
  }
  return undefined;
}

function _bytesOf(source: unknown): Uint8Array | undefined {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) {
    return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  }
  return undefined;
}

/**
 * Runs `activate` (which starts tfjs-backend-wasm, e.g.
 * `tf.setBackend("wasm")`) with `WebAssembly.instantiate` patched so that
 * the module instantiated meanwhile gets a shared memory
 * ({@linkcode sharedMemoryModule}); restores `WebAssembly.instantiate`
 * afterwards. A backend started earlier keeps its heap. When modules were
 * instantiated meanwhile but none had a memory flag byte to flip (tfjs's
 * module changed), it throws the version guard's error
 * (`tfjs_internals.ts`) rather than leave the heap unshared.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import "@tensorflow/tfjs-backend-wasm";
 * import { withSharedWasmHeap } from "./shared_heap.ts";
 * await withSharedWasmHeap(() => tf.setBackend("wasm"));
 * ```
 */
export async function withSharedWasmHeap<T>(
  activate: () => Promise<T>,
): Promise<T> {
  const original = WebAssembly.instantiate;
  let seen = 0, flipped = 0;
  const patched = ((source: unknown, imports?: WebAssembly.Imports) => {
    const bytes = _bytesOf(source);
    const shared = bytes && sharedMemoryModule(bytes);
    if (bytes !== undefined) seen++;
    if (shared !== undefined) flipped++;
    return (original as (s: unknown, i?: WebAssembly.Imports) => unknown)(
      shared ?? source,
      imports,
    );
  }) as typeof WebAssembly.instantiate;
  WebAssembly.instantiate = patched;
  try {
    const result = await activate();
    if (seen > 0 && flipped === 0) {
      throw memoryFlagError(
        `none of the ${seen} module(s) instantiated while the backend ` +
          "started has one defined, non-shared memory with a maximum",
      );
    }
    return result;
  } finally {
    if (WebAssembly.instantiate === patched) {
      WebAssembly.instantiate = original;
    }
  }
}
