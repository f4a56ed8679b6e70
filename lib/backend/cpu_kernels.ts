/**
 * A faster filter gradient for tfjs's pure-JS `cpu` backend, the last
 * fallback. The shipped Conv2DBackpropFilter walks the batch in its
 * innermost loop and takes 86% of a LeNet-5 training step; the loops of
 * `_conv_loops.ts` walk contiguous output channels instead.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { registerCpuTrainingKernels } from "./cpu_kernels.ts";
 * const restore = registerCpuTrainingKernels();
 * restore(); // back to the shipped kernel (tests compare the two)
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import { conv2dFilterGrad } from "./_conv_loops.ts";
import { attrsOf, type KernelArgs } from "./_kernel_args.ts";

interface _CpuBackend {
  data: { get(dataId: tf.DataId): { values: tf.backend_util.BackendValues } };
  makeTensorInfo(
    shape: number[],
    dtype: tf.DataType,
    values: tf.backend_util.BackendValues,
  ): tf.TensorInfo;
}

type _Attrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
  dataFormat?: "NHWC" | "NCHW";
  filterShape: [number, number, number, number];
};

function _conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as _CpuBackend;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = attrsOf<_Attrs>(args);
  if (attrs.dataFormat === "NCHW") {
    return _original!.kernelFunc(
      args as Parameters<tf.KernelFunc>[0],
    ) as tf.TensorInfo;
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const grad = conv2dFilterGrad(
    backend.data.get(x.dataId).values as Float32Array,
    backend.data.get(dy.dataId).values as Float32Array,
    info,
  );
  return backend.makeTensorInfo([...attrs.filterShape], "float32", grad);
}

let _original: tf.KernelConfig | undefined;

/**
 * Replaces the `cpu` backend's Conv2DBackpropFilter by a cache-friendly
 * one (NCHW data still goes to the shipped kernel). Idempotent; returns a
 * function that puts the shipped kernel back.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { registerCpuTrainingKernels } from "./cpu_kernels.ts";
 * registerCpuTrainingKernels();
 * ```
 */
export function registerCpuTrainingKernels(): () => void {
  if (_original === undefined) {
    const shipped = tf.getKernel("Conv2DBackpropFilter", "cpu");
    if (shipped === undefined) {
      throw new Error(
        'the cpu backend is not loaded: import "@tensorflow/tfjs-backend-cpu" first.',
      );
    }
    _original = shipped;
    tf.unregisterKernel("Conv2DBackpropFilter", "cpu");
    tf.registerKernel({
      kernelName: "Conv2DBackpropFilter",
      backendName: "cpu",
      kernelFunc: _conv2dBackpropFilter,
    });
  }
  return () => {
    if (_original === undefined) return;
    tf.unregisterKernel("Conv2DBackpropFilter", "cpu");
    tf.registerKernel(_original);
    _original = undefined;
  };
}
