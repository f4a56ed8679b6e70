/**
 * What every kernel of `lib/backend` (wasm and cpu) is called with, and
 * the one place its attributes are typed.
 *
 * @module
 */
import type * as tf from "../tf.ts";

/** What tfjs passes a kernel function. */
export type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

/** A kernel of the project: the tfjs kernel name and its function. */
export interface KernelImpl {
  /** The tfjs kernel (or project kernel) name it is registered under. */
  readonly kernelName: string;
  /** The function tfjs calls (on the wasm backend). */
  readonly kernelFunc: (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];
}

/**
 * A kernel call's attributes as the kernel's attribute type `T`: tfjs
 * types them as a generic map, its kernels cast them alike.
 */
export function attrsOf<T>(args: KernelArgs): T {
  return (args.attrs ?? {}) as T;
}
