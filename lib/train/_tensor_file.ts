/**
 * A minimal tensor container for checkpoints: `<base>.json` (manifest:
 * names, dtypes, shapes, byte offsets) next to `<base>.bin` (the raw
 * little-endian values, concatenated as in tfjs's own `weights.bin`).
 *
 * Why not `tf.io.encodeWeights` / `tf.io.decodeWeights`: they work on
 * tensors, and a checkpoint holds typed arrays. The checkpoint code has
 * already read every weight and optimizer slot (`await t.data()`, the only
 * read WebGPU allows); encoding with tf.io would upload those arrays to the
 * backend again (to the GPU on WebGPU) only to read them back, and decoding
 * would create tensors that the loader must read back before assigning them.
 * tf.io offers no codec for plain typed arrays, and the byte layout is a
 * plain concatenation either way, so the 40 lines below stay.
 *
 * @module
 */

/** One named array of numbers with its shape. */
export interface TensorEntry {
  name: string;
  dtype: "float32" | "int32";
  shape: number[];
  values: Float32Array | Int32Array;
}

interface _ManifestEntry {
  name: string;
  dtype: "float32" | "int32";
  shape: number[];
  offset: number;
  length: number;
}

const _FORMAT = "cnn-tensors/1";

/** Writes `<base>.json` and `<base>.bin`. */
export async function writeTensorFile(
  base: string,
  entries: readonly TensorEntry[],
  extra: Record<string, unknown> = {},
): Promise<void> {
  let bytes = 0;
  const manifest: _ManifestEntry[] = entries.map((e) => {
    const entry = {
      name: e.name,
      dtype: e.dtype,
      shape: e.shape,
      offset: bytes,
      length: e.values.length,
    };
    bytes += e.values.length * 4;
    return entry;
  });
  const buffer = new Uint8Array(bytes);
  entries.forEach((e, i) => {
    buffer.set(
      new Uint8Array(e.values.buffer, e.values.byteOffset, e.values.length * 4),
      manifest[i].offset,
    );
  });
  await Deno.writeFile(`${base}.bin`, buffer);
  await Deno.writeTextFile(
    `${base}.json`,
    JSON.stringify({ format: _FORMAT, ...extra, tensors: manifest }, null, 1),
  );
}

/** Reads what {@linkcode writeTensorFile} wrote. */
export async function readTensorFile(
  base: string,
): Promise<{ entries: TensorEntry[]; extra: Record<string, unknown> }> {
  let manifest;
  try {
    manifest = JSON.parse(await Deno.readTextFile(`${base}.json`));
  } catch (error) {
    const why = error instanceof SyntaxError
      ? `damaged: truncated or not JSON (${error.message})`
      : `unreadable (${(error as Error).message})`;
    throw new Error(`${base}.json is ${why}`);
  }
  if (manifest?.format !== _FORMAT || !Array.isArray(manifest.tensors)) {
    throw new Error(
      `${base}.json is not a ${_FORMAT} manifest (format: ${manifest?.format})`,
    );
  }
  const bytes = await Deno.readFile(`${base}.bin`);
  const entries = (manifest.tensors as _ManifestEntry[]).map((m) => {
    const end = m.offset + m.length * 4;
    if (end > bytes.length) {
      throw new Error(
        `${base}.bin is truncated: '${m.name}' ends past the file`,
      );
    }
    const copy = bytes.slice(m.offset, end).buffer;
    const values = m.dtype === "int32"
      ? new Int32Array(copy)
      : new Float32Array(copy);
    return { name: m.name, dtype: m.dtype, shape: m.shape, values };
  });
  const { tensors: _t, format: _f, ...extra } = manifest;
  return { entries, extra };
}
