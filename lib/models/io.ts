/**
 * Saving and loading models as `file://` folders (`model.json` +
 * `weights.bin`, the layout tfjs-node uses), without tfjs-node: a small
 * `tf.io.IOHandler` on top of Deno's file system. Importing this module
 * also registers the custom layers, so models using them load back.
 *
 * @module
 */
import { dirname } from "node:path";
import * as tf from "../tf.ts";
import "./layers/mod.ts";

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

function _dirOf(path: string): string {
  let dir = path.startsWith("file://") ? path.slice("file://".length) : path;
  if (dir.endsWith(`/${MODEL_JSON}`) || dir === MODEL_JSON) {
    dir = dir.slice(0, -MODEL_JSON.length) || ".";
  }
  if (dir.length > 1 && dir.endsWith("/")) dir = dir.slice(0, -1);
  if (dir === "") {
    throw new Error(
      "model folder path is empty; pass a folder like ./models/lenet.",
    );
  }
  return dir;
}

function _joinWeights(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buffer = Array.isArray(data)
    ? tf.io.CompositeArrayBuffer.join(data)
    : data;
  return new Uint8Array(buffer);
}

async function _writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw err;
  }
}

/**
 * An IOHandler that saves to and loads from a folder: `model.json` (topology,
 * training config, weight manifest) and `weights.bin`. Each file is written
 * to a temporary name then renamed, weights first, so a reader never sees a
 * `model.json` whose weights are incomplete.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5 } from "./mod.ts";
 * import { fileSystemHandler } from "./io.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = buildLenet5();
 * const dir = await Deno.makeTempDir();
 * await model.save(fileSystemHandler(dir));
 * const again = await tf.loadLayersModel(fileSystemHandler(dir));
 * assert.equal(again.countParams(), model.countParams());
 * ```
 */
export function fileSystemHandler(dir: string): tf.io.IOHandler {
  const folder = _dirOf(dir);
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (
        artifacts.modelTopology == null ||
        artifacts.modelTopology instanceof ArrayBuffer
      ) {
        throw new Error(
          "fileSystemHandler saves layers models (JSON topology) only, not " +
            "binary graph models.",
        );
      }
      const topology: object = artifacts.modelTopology;
      await Deno.mkdir(folder, { recursive: true });
      const modelJSON: tf.io.ModelJSON = {
        modelTopology: topology,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{
          paths: [`./${WEIGHTS_BIN}`],
          weights: artifacts.weightSpecs ?? [],
        }],
      };
      if (artifacts.trainingConfig != null) {
        modelJSON.trainingConfig = artifacts.trainingConfig;
      }
      if (artifacts.userDefinedMetadata != null) {
        modelJSON.userDefinedMetadata = artifacts.userDefinedMetadata;
      }
      await _writeAtomic(
        `${folder}/${WEIGHTS_BIN}`,
        _joinWeights(artifacts.weightData),
      );
      await _writeAtomic(
        `${folder}/${MODEL_JSON}`,
        new TextEncoder().encode(JSON.stringify(modelJSON)),
      );
      return {
        modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts),
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = `${folder}/${MODEL_JSON}`;
      let text: string;
      try {
        text = await Deno.readTextFile(jsonPath);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) {
          throw new Error(
            `no saved model at ${folder}: ${jsonPath} does not exist. Save ` +
              `one first with saveModel(model, "${folder}").`,
          );
        }
        throw err;
      }
      let modelJSON: tf.io.ModelJSON;
      try {
        modelJSON = JSON.parse(text);
      } catch (err) {
        throw new Error(
          `${jsonPath} is not valid JSON (${(err as Error).message}); the ` +
            `save was interrupted or the file is not a tfjs model.`,
        );
      }
      if (modelJSON == null || modelJSON.modelTopology == null) {
        throw new Error(
          `${jsonPath} has no modelTopology; it is not a tfjs layers model.`,
        );
      }
      return await tf.io.getModelArtifactsForJSON(
        modelJSON,
        async (manifest) => {
          const specs: tf.io.WeightsManifestEntry[] = [];
          const parts: Uint8Array[] = [];
          for (const group of manifest) {
            specs.push(...group.weights);
            for (const p of group.paths) {
              const path = `${folder}/${p.replace(/^\.\//, "")}`;
              try {
                parts.push(await Deno.readFile(path));
              } catch (err) {
                if (err instanceof Deno.errors.NotFound) {
                  throw new Error(
                    `${jsonPath} lists weights file ${path}, which is missing.`,
                  );
                }
                throw err;
              }
            }
          }
          const total = parts.reduce((s, b) => s + b.byteLength, 0);
          _checkWeightBytes(
            specs,
            total,
            manifest.flatMap((g) => g.paths).map((p) =>
              `${folder}/${p.replace(/^\.\//, "")}`
            ).join(", "),
            jsonPath,
          );
          const all = new Uint8Array(total);
          let offset = 0;
          for (const b of parts) {
            all.set(b, offset);
            offset += b.byteLength;
          }
          return [specs, all.buffer];
        },
      );
    },
  };
}

const _BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
  complex64: 8,
};

/**
 * Refuses weight files whose size does not match the manifest, naming the
 * file and the first weight (and its layer) that does not fit, instead of
 * tfjs's bare "tensor should have N values".
 */
function _checkWeightBytes(
  specs: tf.io.WeightsManifestEntry[],
  total: number,
  files: string,
  jsonPath: string,
): void {
  let expected = 0;
  let firstShort: { spec: tf.io.WeightsManifestEntry; offset: number } | null =
    null;
  for (const spec of specs) {
    const bytes = _BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) return; // strings: sizes are in the data itself
    const size = spec.shape.reduce((a, b) => a * b, 1) * bytes;
    if (!firstShort && expected + size > total) {
      firstShort = { spec, offset: expected };
    }
    expected += size;
  }
  if (expected === total) return;
  const layer = (name: string) =>
    name.split("/").slice(0, -1).join("/") || name;
  if (firstShort) {
    const { spec, offset } = firstShort;
    throw new Error(
      `${files} holds ${total} bytes but ${jsonPath} describes ${expected}: ` +
        `weight '${spec.name}' (layer '${
          layer(spec.name)
        }', shape [${spec.shape}], ` +
        `from byte ${offset}) does not fit. The weights file is truncated or ` +
        "belongs to another model; save the model again",
    );
  }
  throw new Error(
    `${files} holds ${total} bytes but ${jsonPath} describes only ${expected}: ` +
      "the weights file belongs to another model (or model.json was edited); " +
      "save the model again",
  );
}

/** Options of {@linkcode checkSaveFolder}. */
export interface CheckSaveFolderOptions {
  /** What will be written, for the messages. Default: "save a model". */
  what?: string;
}

/**
 * Checks, before any long work, that a model can be saved into folder
 * `dir`: the path is not empty, is not an existing file, and the folder
 * (or, when it does not exist yet, its nearest existing parent) is a folder
 * this process can write in. Creates nothing. Throws an error saying what
 * is wrong.
 *
 * @example
 * ```ts
 * import { checkSaveFolder } from "./io.ts";
 * await checkSaveFolder(await Deno.makeTempDir());
 * ```
 */
export async function checkSaveFolder(
  dir: string,
  options: CheckSaveFolderOptions = {},
): Promise<void> {
  const what = options.what ?? "save a model";
  if (dir.trim() === "") {
    throw new Error(
      `the folder path to ${what} into is empty; pass a folder like ./models/lenet`,
    );
  }
  const folder = _dirOf(dir);
  let probe = folder;
  for (;;) {
    let info: Deno.FileInfo | null = null;
    try {
      info = await Deno.stat(probe);
    } catch (e) {
      if (
        !(e instanceof Deno.errors.NotFound) &&
        !(e instanceof Deno.errors.NotADirectory)
      ) {
        throw new Error(`cannot ${what} into ${folder}: ${probe}: ${e}`);
      }
    }
    if (info) {
      if (!info.isDirectory) {
        throw new Error(
          `cannot ${what} into ${folder}: ${probe} is a file, not a ` +
            "folder; choose another path",
        );
      }
      break;
    }
    const parent = dirname(probe);
    if (parent === probe) break;
    probe = parent;
  }
  const test = `${probe}/.write-test-${Deno.pid}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  try {
    await Deno.writeFile(test, new Uint8Array(0), { createNew: true });
  } catch (e) {
    throw new Error(
      `cannot ${what} into ${folder}: ${probe} is not writable (${
        (e as Error).message
      }); choose another path`,
    );
  }
  await Deno.remove(test).catch(() => {});
}

/** Options of {@linkcode saveModel}. */
export interface SaveModelOptions {
  /** Also save the optimizer's state (tfjs supports this for its optimizers). Default: false. */
  includeOptimizer?: boolean;
}

/**
 * Saves a model into folder `dir` (created if needed; `file://` prefix
 * optional) as `model.json` + `weights.bin`.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5, saveModel } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * await saveModel(buildLenet5(), await Deno.makeTempDir());
 * ```
 */
export async function saveModel(
  model: tf.LayersModel,
  dir: string,
  options: SaveModelOptions = {},
): Promise<tf.io.SaveResult> {
  return await model.save(fileSystemHandler(dir), {
    includeOptimizer: options.includeOptimizer ?? false,
  });
}

/** Options of {@linkcode loadModel}. */
export interface LoadModelOptions {
  /** Require the saved weights to match the topology exactly. Default: true. */
  strict?: boolean;
}

/**
 * Loads a model saved by {@linkcode saveModel} (or by tfjs-node's
 * `file://` saver) from folder `dir` or its `model.json` path.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5, loadModel, saveModel } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const dir = await Deno.makeTempDir();
 * await saveModel(buildLenet5(), dir);
 * const model = await loadModel(dir);
 * assert.equal(model.countParams(), 61706);
 * ```
 */
export async function loadModel(
  dir: string,
  options: LoadModelOptions = {},
): Promise<tf.LayersModel> {
  return await tf.loadLayersModel(fileSystemHandler(dir), {
    strict: options.strict ?? true,
  });
}

let _routerRegistered = false;

/**
 * Makes `model.save("file://dir")` and `tf.loadLayersModel("file://dir")`
 * use {@linkcode fileSystemHandler}, as tfjs-node does. Does nothing if a
 * `file://` handler (e.g. tfjs-node's) is already registered.
 *
 * @example
 * ```ts
 * import { initBackend } from "../backend/init.ts";
 * import { buildLenet5, registerFileRouter } from "./mod.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * registerFileRouter();
 * await buildLenet5().save(`file://${await Deno.makeTempDir()}/lenet5`);
 * ```
 */
export function registerFileRouter(): void {
  if (_routerRegistered) return;
  _routerRegistered = true;
  const probe = "file:///tmp/x";
  const router = (url: string | string[]) => {
    const u = Array.isArray(url) ? url[0] : url;
    // tfjs' IORouter type says IOHandler, but routers return null for URLs
    // they do not handle.
    return (typeof u === "string" && u.startsWith("file://")
      ? fileSystemHandler(u)
      : null) as tf.io.IOHandler;
  };
  if (tf.io.getSaveHandlers(probe).length === 0) {
    tf.io.registerSaveRouter(router);
  }
  if (tf.io.getLoadHandlers(probe).length === 0) {
    tf.io.registerLoadRouter(router);
  }
}
