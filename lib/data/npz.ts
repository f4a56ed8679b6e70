/**
 * Reader of NumPy's `.npz` archives: a zip file of `.npy` arrays, each entry
 * stored or deflated. The zip container (central directory, zip64 sizes,
 * inflation) is read by fflate, a maintained zip library without native code;
 * this module only names the arrays and parses each `.npy` entry.
 *
 * Integrity: fflate does not check an entry's CRC-32. Every dataset file is
 * verified against its pinned SHA-256 by the data layer before it is parsed
 * (`fetchFile`), so a damaged archive never reaches this reader from there;
 * bytes from elsewhere are checked only as far as the zip and `.npy`
 * structures go (sizes, headers, the deflate stream).
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseNpz } from "./npz.ts";
 * const bytes = await Deno.readFile("data/kannada-mnist/y_dig_MNIST.npz");
 * const arrays = await parseNpz(bytes, { label: "y_dig_MNIST.npz" });
 * assert.deepEqual([...arrays.keys()], ["arr_0"]);
 * ```
 *
 * @module
 */
import { unzipSync } from "fflate";
import { DataFormatError } from "./errors.ts";
import { type NpyArray, parseNpy } from "./npy.ts";

/** Options of {@linkcode parseNpz}. */
export interface ParseNpzOptions {
  /** Name of the archive, for error messages. Default: "npz data". */
  label?: string;
}

/**
 * Parses every `.npy` array of an `.npz` archive, keyed by name without the
 * `.npy` suffix (`np.savez` names positional arrays `arr_0`, `arr_1`, ...).
 * Throws {@linkcode DataFormatError} when the bytes are not a zip archive, are
 * truncated, hold an entry compressed otherwise than stored or deflated, or
 * hold no `.npy` entry.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { parseNpz } from "./npz.ts";
 * const bytes = await Deno.readFile("data/kannada-mnist/X_dig_MNIST.npz");
 * const images = (await parseNpz(bytes)).get("arr_0")!;
 * assert.deepEqual(images.shape, [10240, 28, 28]);
 * ```
 */
export function parseNpz(
  bytes: Uint8Array,
  options: ParseNpzOptions = {},
): Promise<Map<string, NpyArray>> {
  const label = options.label ?? "npz data";
  const sizes = new Map<string, number>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (file) => {
        if (!file.name.endsWith(".npy")) return false;
        if (file.compression !== 0 && file.compression !== 8) {
          throw new DataFormatError(
            `${label}:${file.name}: unsupported zip compression method ` +
              `${file.compression} (only stored and deflated).`,
          );
        }
        sizes.set(file.name, file.originalSize);
        return true;
      },
    });
  } catch (e) {
    if (e instanceof DataFormatError) return Promise.reject(e);
    return Promise.reject(
      new DataFormatError(
        `${label}: not a zip/npz archive, or truncated or corrupt ` +
          `(${(e as Error).message}). Delete the file and fetch it again.`,
      ),
    );
  }
  const arrays = new Map<string, NpyArray>();
  try {
    for (const [name, data] of Object.entries(files)) {
      const where = `${label}:${name}`;
      if (data.length !== sizes.get(name)) {
        throw new DataFormatError(
          `${where}: entry is ${data.length} bytes, the directory says ` +
            `${sizes.get(name)}: the archive is corrupt. Delete it and fetch ` +
            "it again.",
        );
      }
      arrays.set(name.slice(0, -4), parseNpy(data, { label: where }));
    }
  } catch (e) {
    return Promise.reject(e);
  }
  if (arrays.size === 0) {
    return Promise.reject(
      new DataFormatError(`${label}: the archive holds no .npy arrays.`),
    );
  }
  return Promise.resolve(arrays);
}
