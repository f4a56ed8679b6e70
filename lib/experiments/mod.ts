/**
 * What the notebooks and scripts share about the five tutorial experiments:
 * scales (`smoke` / `quick` / `full`, env `CNN_SCALE`), each model's training
 * settings per scale, data loading with its labelled offline substitutes,
 * fitting images to a model's input, evaluation per test split, result rows
 * and tables beside the published figures, and the notebooks' saved results.
 *
 * @example
 * ```ts
 * import { loadMnistData, scaleFromEnv, trainSettingsFor } from "./mod.ts";
 * const scale = scaleFromEnv();
 * const data = await loadMnistData(scale);
 * console.log(data.description, trainSettingsFor("lenet5", scale));
 * ```
 *
 * @module
 */
export * from "./scale.ts";
export * from "./published.ts";
export * from "./results.ts";
export * from "./files.ts";
export * from "./settings.ts";
export * from "./data.ts";
export * from "./input.ts";
export * from "./evaluate.ts";
export * from "./train_model.ts";
export * from "./kannada_mnist.ts";
export * from "./mnist_lenet5.ts";
export * from "./mnist_lenet_pytorch_style.ts";
export * from "./fashion_mnist_variants.ts";
export * from "./cifar10_cnn.ts";
export * from "./experiments.ts";
