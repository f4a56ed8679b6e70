/**
 * Maximum-stimulus images (seed 004's `find_maximum_stimuli`): start from grey
 * noise and run gradient ascent on the input image, with the gradient
 * normalised each step, to maximise the mean activation of one conv filter or
 * one dense unit.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { maxStimulus, stimulusGrid } from "./stimulus.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3 })],
 * });
 * const results = await maxStimulus(model, { units: [0, 1], iterations: 5 });
 * await stimulusGrid(results).save(`${await Deno.makeTempDir()}/stimuli.svg`);
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { interruptible } from "../train/interrupt.ts";
import type { Figure } from "./figure.ts";
import { imageGrid } from "./images.ts";

/** Options of {@linkcode maxStimulus}. */
export interface MaxStimulusOptions {
  /**
   * Layer whose output is maximised: name or index into `model.layers`.
   * Default: the first layer with a 4-D kernel (the first convolution).
   */
  layer?: string | number;
  /** Units (filters of a conv layer, neurons of a dense layer). Default: the first 16 (or fewer). */
  units?: readonly number[];
  /** Gradient ascent steps. Default: 20 (seed 004). */
  iterations?: number;
  /** Step size applied to the normalised gradient. Default: 1 (seed 004). */
  step?: number;
  /**
   * How the gradient is normalised: "rms" divides by `sqrt(mean(g^2)) + 1e-5`
   * (the Keras filter-visualisation recipe); "l2" by `sqrt(sum(g^2)) + 1e-10`
   * (seed 004's code; tiny steps on big images). Default: "rms".
   */
  normalize?: "rms" | "l2";
  /**
   * Amplitude of the starting noise around 0: seed 004 uses 0.1 for conv
   * layers and 0.001 for dense ones. Default: 0.1 for 4-D outputs, else 0.001.
   */
  noise?: number;
  /** Seed of the starting noise. Default: 42. */
  seed?: number;
}

/** One unit's maximum stimulus, from {@linkcode maxStimulus}. */
export interface Stimulus {
  /** Name of the layer. */
  layer: string;
  /** Unit (filter / neuron) index. */
  unit: number;
  /** Mean activation of the unit for the starting noise image. */
  startActivation: number;
  /** Mean activation of the unit for the final image. */
  activation: number;
  /**
   * {@linkcode filterStimuli} only: the objective at the start of the last
   * iteration, before its step (what seed 004's `find_maximum_stimuli`
   * returns, and what decides whether a filter is drawn).
   */
  loss?: number;
  /** The optimised input, raw model-input values, `height * width * channels`. */
  input: Float32Array;
  /**
   * The input turned into a picture as seed 004 does: centred, scaled to
   * std 0.25, shifted by 0.5, times 255, clipped to 0..255.
   */
  pixels: Uint8Array;
  /** Image height. */
  height: number;
  /** Image width. */
  width: number;
  /** Image channels. */
  channels: number;
}

function _findLayer(
  model: tf.LayersModel,
  layer: string | number | undefined,
): tf.layers.Layer {
  const layers = model.layers;
  const found = typeof layer === "number"
    ? layers[layer]
    : typeof layer === "string"
    ? layers.find((l) => l.name === layer)
    : layers.find((l) => l.getWeights()[0]?.rank === 4);
  if (!found) {
    throw new Error(
      `maxStimulus: no layer ${
        JSON.stringify(layer ?? "with a 4-D kernel")
      }; layers are: ${layers.map((l, i) => `${i}:${l.name}`).join(", ")}`,
    );
  }
  return found;
}

/** Seed 004's `image_values_to_rgb`: std 0.25 around 0.5, to 0..255. */
function _toPixels(x: Float32Array): Uint8Array {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / x.length) + 1e-5;
  return Uint8Array.from(
    x,
    (v) =>
      Math.min(
        255,
        Math.max(0, Math.round(((v - mean) / std * 0.25 + 0.5) * 255)),
      ),
  );
}

/**
 * Finds, for each unit, an input image that strongly activates it, by
 * gradient ascent from grey noise. Dropout and other training-only layers run
 * in inference mode. Each unit costs `iterations` forward and backward
 * passes of the model up to `layer`. An interrupt (Ctrl-C, Jupyter's stop
 * button) ends the search between steps; the units finished so far are
 * returned.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { maxStimulus } from "./stimulus.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [
 *     tf.layers.flatten({ inputShape: [4, 4, 1] }),
 *     tf.layers.dense({ units: 3, name: "fc" }),
 *   ],
 * });
 * const [s] = await maxStimulus(model, { layer: "fc", units: [2] });
 * assert.ok(s.activation > s.startActivation);
 * ```
 */
export async function maxStimulus(
  model: tf.LayersModel,
  options: MaxStimulusOptions = {},
): Promise<Stimulus[]> {
  const layer = _findLayer(model, options.layer);
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((d) => d === null)) {
    throw new Error(
      `maxStimulus needs a model with a fixed image input [batch, h, w, c], got [${
        inputShape.join(", ")
      }]`,
    );
  }
  const [, height, width, channels] = inputShape as number[];
  const outputShape = layer.outputShape as (number | null)[];
  if (!Array.isArray(outputShape) || Array.isArray(outputShape[0])) {
    throw new Error(
      `maxStimulus: layer ${layer.name} has several outputs; pick a layer with one`,
    );
  }
  const numUnits = outputShape[outputShape.length - 1] as number;
  const units = options.units ??
    Array.from({ length: Math.min(16, numUnits) }, (_, i) => i);
  for (const u of units) {
    if (!Number.isInteger(u) || u < 0 || u >= numUnits) {
      throw new Error(
        `maxStimulus: unit ${u} is outside layer ${layer.name}'s ${numUnits} units`,
      );
    }
  }
  const iterations = options.iterations ?? 20;
  const step = options.step ?? 1;
  const normalize = options.normalize ?? "rms";
  const noise = options.noise ?? (outputShape.length === 4 ? 0.1 : 0.001);
  const seed = options.seed ?? 42;
  if (!Number.isInteger(iterations) || iterations < 0) {
    throw new Error(`iterations must be an integer >= 0, got ${iterations}`);
  }
  // A view of the model up to `layer`; it shares the weights, so it is not disposed.
  const sub = tf.model({
    inputs: model.inputs,
    outputs: layer.output as tf.SymbolicTensor,
  });
  // Ctrl-C / Jupyter's stop button: keep the units finished so far.
  using stop = interruptible({ what: "the stimulus search" });
  const results: Stimulus[] = [];
  for (const [k, unit] of units.entries()) {
    const activationOf = (x: tf.Tensor) =>
      _channelMean(sub.apply(x, { training: false }) as tf.Tensor, unit);
    const gradOf = tf.grad((x: tf.Tensor) => activationOf(x));
    let image = _noiseImage([1, height, width, channels], seed + k, noise);
    const startActivation = await _scalar(() => activationOf(image));
    // shouldStop() lets the event loop take a timer turn now and then, so
    // an interrupt is noticed between steps.
    for (let i = 0; i < iterations && !(await stop.shouldStop()); i++) {
      const next = tf.tidy(() =>
        _ascentStep(image, gradOf(image), step, normalize)
      );
      image.dispose();
      image = next;
    }
    if (stop.stopRequested) {
      image.dispose();
      console.error(
        `Stopped: the stimulus search was interrupted at unit ${unit} ` +
          `(${
            k + 1
          } of ${units.length}); returning the ${results.length} finished.`,
      );
      break;
    }
    const activation = await _scalar(() => activationOf(image));
    const input = (await image.data()) as Float32Array;
    image.dispose();
    results.push({
      layer: layer.name,
      unit,
      startActivation,
      activation,
      input,
      pixels: _toPixels(input),
      height,
      width,
      channels,
    });
  }
  return results;
}

/** Mean of channel `unit` (last axis) of a layer's output: what the search maximises. */
function _channelMean(out: tf.Tensor, unit: number): tf.Scalar {
  const last = out.rank - 1;
  const begin = new Array(out.rank).fill(0);
  const size = out.shape.map((d, i) => (i === last ? 1 : d));
  begin[last] = unit;
  return tf.mean(tf.slice(out, begin, size));
}

/** The search's start: uniform noise in [-noise/2, noise/2], seeded. */
function _noiseImage(
  shape: [number, number, number, number],
  seed: number,
  noise: number,
): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(tf.sub(tf.randomUniform(shape, 0, 1, "float32", seed), 0.5), noise)
  );
}

/** One gradient-ascent step of length `step` along the normalised gradient. */
function _ascentStep(
  image: tf.Tensor,
  grad: tf.Tensor,
  step: number,
  normalize: "rms" | "l2",
): tf.Tensor {
  const norm = normalize === "rms"
    ? tf.add(tf.sqrt(tf.mean(tf.square(grad))), 1e-5)
    : tf.add(tf.sqrt(tf.sum(tf.square(grad))), 1e-10);
  return tf.add(image, tf.mul(tf.div(grad, norm), step));
}

/** Reads a scalar computed in a tidy scope (async read: WebGPU-safe). */
async function _scalar(compute: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(compute);
  try {
    return (await t.data())[0];
  } finally {
    t.dispose();
  }
}

/** Options of {@linkcode filterStimuli}. */
export interface FilterStimuliOptions {
  /** Layer whose filters are searched (name or index); its output must be 4-D. */
  layer: string | number;
  /** Stimuli to find (filters with a positive loss). Default: 16 (seed 004's 2x8 grid). */
  count?: number;
  /** Gradient-ascent steps. Default: 20. */
  iterations?: number;
  /** Step applied to the L2-normalised gradient. Default: 1. */
  step?: number;
  /** Amplitude of the starting noise around 0. Default: 0.1. */
  noise?: number;
  /** Filter `f` starts from noise seeded with `seed + f`. Default: 0. */
  seed?: number;
}

/** What {@linkcode filterStimuli} found for one layer. */
export interface FilterStimuli {
  /** Name of the layer. */
  layer: string;
  /** The stimuli drawn, in filter order: filters whose loss ended above 0. */
  stimuli: Stimulus[];
  /** Filters tried and skipped because their loss stayed at or below 0. */
  skipped: number[];
}

/**
 * Seed 004's image decoding (`image_values_to_rgb`): centre on 0, scale to
 * standard deviation 0.25, shift by 0.5, times 255, clip to [0, 255] and
 * truncate to bytes (numpy's `astype('uint8')`).
 */
async function _decodeStimulus(image: tf.Tensor): Promise<Uint8Array> {
  const rgb = tf.tidy(() => {
    const { mean, variance } = tf.moments(image);
    const centred = tf.mul(
      tf.div(tf.sub(image, mean), tf.add(tf.sqrt(variance), 1e-5)),
      0.25,
    );
    return tf.floor(tf.clipByValue(tf.mul(tf.add(centred, 0.5), 255), 0, 255));
  });
  const values = await rgb.data();
  rgb.dispose();
  return Uint8Array.from(values);
}

/**
 * Seed 004's maximum-stimulus search for a conv layer, in its own terms:
 * for each filter in order, start from uniform noise times `noise` (centred
 * on 0), run `iterations` steps of gradient ascent on the mean activation of
 * the filter with the gradient divided by its L2 norm, and keep the image
 * when the loss of the last iteration is above 0; filters whose loss stays
 * at or below 0 are skipped (and listed), until `count` stimuli are found or
 * the filters run out (its `plot_filters_stimuli`). Inference mode (no
 * dropout). Reads values asynchronously, so it runs on WebGPU too. Notebook
 * 004 writes the same search in its cells; a test keeps the two equal.
 *
 * @example
 * ```ts
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { filterStimuli } from "./stimulus.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({ layers: [
 *   tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3, name: "c" }),
 * ] });
 * const found = await filterStimuli(model, { layer: "c", count: 2, iterations: 5 });
 * console.log(found.stimuli.length, found.skipped);
 * ```
 */
export async function filterStimuli(
  model: tf.LayersModel,
  options: FilterStimuliOptions,
): Promise<FilterStimuli> {
  const layer = _findLayer(model, options.layer);
  const inputShape = model.inputs[0].shape;
  if (inputShape.length !== 4 || inputShape.slice(1).some((d) => d === null)) {
    throw new Error(
      `filterStimuli needs a model with a fixed image input [batch, h, w, c], got [${
        inputShape.join(", ")
      }]`,
    );
  }
  const outputShape = layer.outputShape as (number | null)[];
  if (!Array.isArray(outputShape) || outputShape.length !== 4) {
    throw new Error(
      `filterStimuli: layer ${layer.name} must output 4-D feature maps [batch, h, w, filters], got ${
        JSON.stringify(outputShape)
      }`,
    );
  }
  const [, height, width, channels] = inputShape as number[];
  const filters = outputShape[3] as number;
  const count = options.count ?? 16;
  const iterations = options.iterations ?? 20;
  const step = options.step ?? 1;
  const noise = options.noise ?? 0.1;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new Error(
      `filterStimuli: iterations must be an integer >= 1, got ${iterations}`,
    );
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(
      `filterStimuli: count must be an integer >= 1, got ${count}`,
    );
  }
  const upToLayer = tf.model({
    inputs: model.inputs,
    outputs: layer.output as tf.SymbolicTensor,
  });
  const stimuli: Stimulus[] = [];
  const skipped: number[] = [];
  // Ctrl-C / Jupyter's stop button: keep the filters finished so far.
  using stop = interruptible({ what: "the stimulus search" });
  for (
    let filter = 0;
    filter < filters && stimuli.length < count && !(await stop.shouldStop());
    filter++
  ) {
    const lossOf = (image: tf.Tensor) =>
      _channelMean(
        upToLayer.apply(image, { training: false }) as tf.Tensor,
        filter,
      );
    const lossAndGrad = tf.valueAndGrad(lossOf);
    let image = _noiseImage([1, height, width, channels], seed + filter, noise);
    let loss = 0;
    let startLoss = 0;
    for (let i = 0; i < iterations; i++) {
      const { value, grad } = lossAndGrad(image);
      const next = tf.tidy(() => _ascentStep(image, grad, step, "l2"));
      [loss] = await value.data();
      if (i === 0) startLoss = loss;
      tf.dispose([value, grad, image]);
      image = next;
    }
    if (!(loss > 0)) {
      skipped.push(filter);
      image.dispose();
      continue;
    }
    const final = tf.tidy(() => lossOf(image));
    const [activation] = await final.data();
    final.dispose();
    const input = await image.data() as Float32Array;
    const pixels = await _decodeStimulus(image);
    image.dispose();
    stimuli.push({
      layer: layer.name,
      unit: filter,
      startActivation: startLoss,
      activation,
      loss,
      input,
      pixels,
      height,
      width,
      channels,
    });
  }
  return { layer: layer.name, stimuli, skipped };
}

/** Options of {@linkcode stimulusGrid}. */
export interface StimulusGridOptions {
  /** Images per row. Default: 8. */
  columns?: number;
  /** Displayed size of each image in pixels. Default: 64. */
  cellSize?: number;
  /** Figure title. Default: "Maximum stimuli of <layer>". */
  title?: string;
}

/**
 * Draws {@linkcode maxStimulus} results as a grid titled with unit and
 * reached activation.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import * as tf from "../tf.ts";
 * import { initBackend } from "../backend/init.ts";
 * import { maxStimulus, stimulusGrid } from "./stimulus.ts";
 * await initBackend({ backend: "cpu", verbose: false });
 * const model = tf.sequential({
 *   layers: [tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 })],
 * });
 * const fig = stimulusGrid(await maxStimulus(model, { iterations: 3 }));
 * assert.ok(fig.width > 0);
 * ```
 */
export function stimulusGrid(
  stimuli: readonly Stimulus[],
  options: StimulusGridOptions = {},
): Figure {
  if (stimuli.length === 0) throw new Error("stimulusGrid: no stimuli to draw");
  const { height, width, channels } = stimuli[0];
  const size = height * width * channels;
  const images = new Uint8Array(stimuli.length * size);
  stimuli.forEach((s, i) => {
    if (s.pixels.length !== size) {
      throw new Error(
        "stimulusGrid: all stimuli must have the same image size",
      );
    }
    images.set(s.pixels, i * size);
  });
  return imageGrid({ images, count: stimuli.length, height, width, channels }, {
    limit: stimuli.length,
    columns: options.columns ?? 8,
    cellSize: options.cellSize ?? 64,
    titles: stimuli.map((s) =>
      `#${s.unit}\nact ${s.activation.toPrecision(3)}`
    ),
    title: options.title ?? `Maximum stimuli of ${stimuli[0].layer}`,
  });
}
