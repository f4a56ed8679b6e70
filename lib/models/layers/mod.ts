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
export * from "./simple_conv2d.ts";
export * from "./lenet1998.ts";
