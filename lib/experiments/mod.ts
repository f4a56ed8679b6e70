/**
 * The five tutorial experiments, as steps that notebooks and scripts share:
 * scales (`smoke` / `full`, env `CNN_SCALE`), each model's tutorial training
 * settings, data loading with documented substitutes, input fitting,
 * training, evaluation per test split, result rows beside the published
 * figures, and one `runXxx` per tutorial composing it all end to end.
 *
 * @example
 * ```ts
 * import { resultsMarkdown, runMnistLeNet5, scaleFromEnv } from "./mod.ts";
 * const result = await runMnistLeNet5({ scale: scaleFromEnv(), outDir: "out/001" });
 * console.log(resultsMarkdown(result.rows));
 * ```
 *
 * @module
 */
export * from "./scale.ts";
export * from "./published.ts";
export * from "./results.ts";
export * from "./settings.ts";
export * from "./pipeline.ts";
export * from "./run.ts";
export * from "./kannada_mnist.ts";
export * from "./mnist_lenet5.ts";
export * from "./mnist_lenet_pytorch_style.ts";
export * from "./fashion_mnist_variants.ts";
export * from "./cifar10_cnn.ts";
export * from "./experiments.ts";
