/**
 * Seed 002: the PyTorch-style LeNet on MNIST: images resized to 32x32 and
 * standardised (mean 0.1307, std 0.3081), log-softmax output, Adam (lr
 * 0.001, batch 64, 5 epochs), loss and accuracy curves, save and load, and
 * predictions for digit image files (PNG/JPEG).
 *
 * @example
 * ```ts ignore
 * import { loadPyTorchStyleData, MNIST_NORMALIZE } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadPyTorchStyleData("smoke");
 * console.log(data.description, MNIST_NORMALIZE);
 * ```
 *
 * @module
 */
import type { ExperimentData } from "./data.ts";
import { loadMnistData } from "./mnist_lenet5.ts";
import type { Scale } from "./scale.ts";

/** Id of this experiment in reports. */
export const PYTORCH_STYLE_ID = "002-mnist-lenet-pytorch-style";

/** The normalisation seed 002 applies after `ToTensor` (MNIST's mean and std). */
export const MNIST_NORMALIZE: { mean: number; std: number } = {
  mean: 0.1307,
  std: 0.3081,
};

/** Options of {@linkcode loadPyTorchStyleData}. */
export interface LoadPyTorchStyleDataOptions {
  /** Data cache folder. Default: the data layer's. */
  dataDir?: string;
  /** Local dataset mirror (`runConfigFromEnv().data.mirror`). Default: none. */
  mirror?: string | null;
  /** Never use the network. Default: false. */
  offline?: boolean;
}

/**
 * MNIST for seed 002 (the 32x32 resize and normalisation happen when the
 * images are turned into tensors for the model).
 *
 * @example
 * ```ts ignore
 * import { loadPyTorchStyleData } from "./mnist_lenet_pytorch_style.ts";
 * const data = await loadPyTorchStyleData("smoke");
 * console.log(data.description);
 * ```
 */
export async function loadPyTorchStyleData(
  scale: Scale,
  options: LoadPyTorchStyleDataOptions = {},
): Promise<ExperimentData> {
  return await loadMnistData(scale, { ...options, model: "lenet5-32" });
}
