/**
 * Custom layers of the project, registered for serialisation on import:
 * seed 001's hand-written convolution and the layers of the 1998 LeNet-5.
 *
 * @example
 * ```ts
 * import { PartialConv2D, SimpleConv2D } from "./mod.ts";
 * const conv = new SimpleConv2D({ filters: 6, kernelSize: 5 });
 * const c3 = new PartialConv2D();
 * console.log(conv.getClassName(), c3.connectionCount); // SimpleConv2D 60
 * ```
 *
 * @module
 */
export { SimpleConv2D, type SimpleConv2DArgs } from "./simple_conv2d.ts";
export {
  EuclideanRBF,
  type EuclideanRBFArgs,
  LENET5_C3_TABLE,
  PartialConv2D,
  type PartialConv2DArgs,
  rbfPrototypeCodes,
  ScaledTanh,
  type ScaledTanhArgs,
  TrainableSubsampling,
  type TrainableSubsamplingArgs,
} from "./lenet1998.ts";
