/**
 * The shared wasm heap (`lib/backend/shared_heap.ts`): which modules get
 * a shared memory, that the patched module instantiates over a
 * `SharedArrayBuffer`, and that `WebAssembly.instantiate` is always
 * restored.
 */
import assert from "node:assert/strict";
import { TfjsInternalsError } from "../lib/backend/tfjs_internals.ts";
import {
  sharedMemoryModule,
  withSharedWasmHeap,
} from "../lib/backend/shared_heap.ts";

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
/** Export section: the memory, as "memory". */
const EXPORT_MEMORY = [
  0x07,
  0x0a,
  0x01,
  0x06,
  ...new TextEncoder().encode("memory"),
  0x02,
  0x00,
];

/** (module (memory 1 2) (export "memory" (memory 0))) */
const WITH_MAX = new Uint8Array([
  ...HEADER,
  0x05,
  0x04,
  0x01,
  0x01,
  0x01,
  0x02,
  ...EXPORT_MEMORY,
]);
/** (module (memory 1)): no maximum, which a shared memory needs. */
const NO_MAX = new Uint8Array([...HEADER, 0x05, 0x03, 0x01, 0x00, 0x01]);
/** (module (import "env" "memory" (memory 1))) */
const IMPORTED = new Uint8Array([
  ...HEADER,
  0x02,
  0x0f,
  0x01,
  0x03,
  ...new TextEncoder().encode("env"),
  0x06,
  ...new TextEncoder().encode("memory"),
  0x02,
  0x00,
  0x01,
]);

Deno.test("sharedMemoryModule makes a defined memory with a maximum shared", async () => {
  assert.ok(WebAssembly.validate(WITH_MAX));
  const patched = sharedMemoryModule(WITH_MAX);
  assert.ok(patched !== undefined);
  assert.equal(patched.length, WITH_MAX.length);
  assert.equal(WITH_MAX[11], 0x01, "the input is left as it was");
  assert.equal(patched[11], 0x03, "limits: a maximum, shared");
  const { instance } = await WebAssembly.instantiate(patched as BufferSource);
  const memory = instance.exports.memory as WebAssembly.Memory;
  const buffer: ArrayBufferLike = memory.buffer;
  assert.ok(buffer instanceof SharedArrayBuffer);
  memory.grow(1); // a shared memory grows in place, up to its maximum
  assert.equal((memory.buffer as ArrayBufferLike).byteLength, 2 * 65536);
  assert.throws(() => memory.grow(1));
});

Deno.test("sharedMemoryModule leaves modules it cannot patch alone", () => {
  assert.equal(sharedMemoryModule(NO_MAX), undefined, "no maximum");
  assert.equal(sharedMemoryModule(IMPORTED), undefined, "imported memory");
  assert.equal(
    sharedMemoryModule(new Uint8Array(HEADER)),
    undefined,
    "no memory",
  );
  assert.equal(
    sharedMemoryModule(new TextEncoder().encode("not a wasm module")),
    undefined,
    "not WebAssembly",
  );
  const shared = sharedMemoryModule(WITH_MAX)!;
  assert.equal(sharedMemoryModule(shared), undefined, "already shared");
});

Deno.test("withSharedWasmHeap patches instantiate only while it runs, also when it throws", async () => {
  const original = WebAssembly.instantiate;
  const seen = await withSharedWasmHeap(async () => {
    assert.notEqual(WebAssembly.instantiate, original);
    const { instance } = await WebAssembly.instantiate(
      WITH_MAX as BufferSource,
    );
    return (instance.exports.memory as WebAssembly.Memory).buffer;
  });
  assert.ok(seen instanceof SharedArrayBuffer);
  assert.equal(WebAssembly.instantiate, original);
  await assert.rejects(
    withSharedWasmHeap(() => Promise.reject(new Error("no backend"))),
    /no backend/,
  );
  assert.equal(WebAssembly.instantiate, original);
  const { instance } = await WebAssembly.instantiate(WITH_MAX as BufferSource);
  assert.ok(
    !((instance.exports.memory as WebAssembly.Memory).buffer instanceof
      SharedArrayBuffer),
    "afterwards modules keep their own memory",
  );
});

Deno.test("withSharedWasmHeap fails loudly when the started module has no memory flag to flip", async () => {
  await assert.rejects(
    withSharedWasmHeap(() =>
      WebAssembly.instantiate(IMPORTED as BufferSource, {
        env: { memory: new WebAssembly.Memory({ initial: 1 }) },
      })
    ),
    (error: Error) => {
      assert.ok(error instanceof TfjsInternalsError);
      assert.match(error.message, /memory flag byte/);
      assert.match(error.message, /checked against 4\.22\.0/);
      return true;
    },
  );
  // Nothing instantiated (a backend started earlier): no error.
  assert.equal(await withSharedWasmHeap(() => Promise.resolve(1)), 1);
});
