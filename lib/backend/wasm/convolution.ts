/**
 * Convolution kernels for `wasm`: Conv2D and FusedConv2D (few input
 * channels, 1x1 on new weights, every convolution on two threads), the
 * filter gradient Conv2DBackpropFilter (missing from tfjs-backend-wasm 4.22),
 * the input gradient Conv2DBackpropInput, and both depthwise gradients.
 *
 * @module
 */
import * as tf from "../../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import { type SimdKernels, simdKernelsFor } from "../simd_kernels.ts";
import { type KernelThreads, kernelThreads } from "../kernel_threads.ts";
import {
  depthwiseFilterGrad,
  depthwiseInputGrad,
  dilateRows,
  im2colTransposed,
  rotateFilter,
  shiftedPatchGrid,
  spreadOutputGradient,
  writeShiftedPatches,
} from "../_conv_loops.ts";
import { matmulNn, simdFilterGrad, simdMatMulNt } from "./_calls.ts";
import {
  address,
  attrsOf,
  callOriginal,
  checkNhwc,
  type ConvAttrs,
  convInfo,
  geometryArgs,
  heapF32,
  type KernelArgs,
  type KernelImpl,
  outputFrom,
  rangeCall,
  shippedKernel,
  simdCall,
  wasmBackend,
} from "./_common.ts";
import {
  CHUNKS,
  COLS_MAX_CHANNELS,
  colsInputGradPays,
  DIRECT_MAX_CHANNELS,
  freshWeights,
  MAX_GRID_COLUMNS_RATIO,
  MIN_SIMD_PIXELS,
  MIN_THREADED_WORK,
  ONE_CHANNEL_WORK_WEIGHT,
} from "./policy.ts";
/**
 * The filter gradient as patches(x)ᵀ · dy with the patches written element
 * by element: for geometries where the shifted-row grid of
 * {@linkcode writeShiftedPatches} would waste too many columns.
 */
function im2colFilterGrad(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  filterShape: readonly number[],
): tf.TensorInfo {
  const rows = info.filterHeight * info.filterWidth * info.inChannels;
  const cols = info.batchSize * info.outHeight * info.outWidth;
  // patchesᵀ goes straight into a heap tensor, laid out so that the product
  // needs no transposed operand (XNNPACK's fast path).
  const patches = backend.makeOutput([1, rows, cols], "float32");
  im2colTransposed(
    heapF32(backend, x),
    info,
    backend.typedArrayFromHeap(patches) as Float32Array,
  );
  const dy3 = {
    dataId: dy.dataId,
    shape: [1, cols, info.outChannels],
    dtype: dy.dtype,
  };
  const product = shippedKernel("BatchMatMul")({
    inputs: { a: patches, b: dy3 },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patches.dataId);
  product.shape = [...filterShape];
  return product;
}

/**
 * The filter gradient of a one-channel, stride-1, undilated convolution
 * (grey images' first layer) in `conv2d_filter_grad_one_channel`, four
 * output pixels per vector: one partial gradient per chunk of output rows
 * (the chunks shared by two threads where they run), then summed in chunk
 * order; `undefined` for other convolutions. Needs scratch copies: x
 * zero-padded (so no tap needs a bounds check) and dy transposed per
 * output row to [channel][pixel].
 */
function oneChannelFilterGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  filterShape: readonly number[],
): tf.TensorInfo | undefined {
  const {
    batchSize: n,
    inHeight: h,
    inWidth: w,
    outHeight: oh,
    outWidth: ow,
    outChannels: co,
    filterHeight: fh,
    filterWidth: fw,
  } = info;
  if (
    info.inChannels !== 1 || info.strideHeight !== 1 ||
    info.strideWidth !== 1 || info.dilationHeight !== 1 ||
    info.dilationWidth !== 1
  ) {
    return undefined;
  }
  const { top, left } = info.padInfo;
  const ow4 = Math.ceil(ow / 4) * 4;
  const hp = oh + fh - 1, wp = ow4 + fw - 1;
  const bottom = hp - h - top, right = wp - w - left;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return undefined;
  heapF32(backend, x); // dtype checks
  heapF32(backend, dy);
  const rows = n * oh;
  const chunkRows = Math.ceil(rows / CHUNKS);
  const chunks = Math.ceil(rows / chunkRows);
  const size = fh * fw * co;
  const xp = backend.makeOutput([n, hp, wp, 1], "float32");
  const dyt = backend.makeOutput([rows * co * ow4], "float32");
  const partial = backend.makeOutput([chunks * size], "float32");
  const out = backend.makeOutput([...filterShape], "float32");
  try {
    // Addresses after the allocations: they stay valid when the heap grows.
    const [xAt, dyAt, xpAt, dytAt, partialAt, outAt] = [
      x,
      dy,
      xp,
      dyt,
      partial,
      out,
    ].map((t) => address(backend, t));
    simd.pad_nhwc(xAt, xpAt, n, h, w, 1, top, bottom, left, right);
    rangeCall(
      simd,
      "conv2d_filter_grad_one_channel",
      [
        xpAt,
        dyAt,
        dytAt,
        partialAt,
        n,
        oh,
        ow,
        ow4,
        hp,
        wp,
        co,
        fh,
        fw,
        chunkRows,
      ],
      chunks,
      ONE_CHANNEL_WORK_WEIGHT * rows * ow * size,
      chunks,
    );
    // The chunks' partial sums, added in chunk order.
    simd.sum_rows(partialAt, outAt, chunks, size);
  } finally {
    backend.disposeData(xp.dataId);
    backend.disposeData(dyt.dataId);
    backend.disposeData(partial.dataId);
  }
  return out;
}

/**
 * The filter gradient as one matrix product, patches · dyGrid, in XNNPACK.
 * The patches are copied a whole image row (or more) at a time from a
 * padded channel-major copy of the input ({@linkcode writeShiftedPatches}),
 * at the cost of some zero columns; when those would be too many, the
 * element-wise im2col is used instead.
 */
function conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = attrsOf<
    ConvAttrs & {
      filterShape: [number, number, number, number];
    }
  >(args);
  checkNhwc("Conv2DBackpropFilter", attrs);
  const info = convInfo(x.shape, attrs.filterShape, attrs, false);
  const columns = info.batchSize * info.outHeight * info.outWidth;
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && columns >= MIN_SIMD_PIXELS) {
    const oneChannel = oneChannelFilterGrad(
      backend,
      simd,
      x,
      dy,
      info,
      attrs.filterShape,
    );
    if (oneChannel !== undefined) return oneChannel;
    return simdFilterGrad(
      backend,
      simd,
      x,
      dy,
      attrs.filterShape,
      geometryArgs(info, true),
    );
  }
  const grid = shiftedPatchGrid(info);
  if (grid.columns > MAX_GRID_COLUMNS_RATIO * columns) {
    return im2colFilterGrad(backend, x, dy, info, attrs.filterShape);
  }
  heapF32(backend, x); // dtype checks
  heapF32(backend, dy);
  const { inChannels: ci, outChannels: co } = info;
  // Channel-major input, so that each patch row is made of whole image rows.
  const xt = ci === 1 ? x : shippedKernel("Transpose")({
    inputs: { x },
    backend,
    attrs: { perm: [3, 0, 1, 2] },
  }) as tf.TensorInfo;
  const rows = info.filterHeight * info.filterWidth * ci;
  const padded = backend.makeOutput([grid.paddedSize], "float32");
  const patches = backend.makeOutput([1, rows, grid.columns], "float32");
  const dyGrid = backend.makeOutput([1, grid.columns, co], "float32");
  // The heap may have grown: take its view after every allocation.
  const heap = new Float32Array(
    backend.typedArrayFromHeap(patches).buffer as ArrayBuffer,
  );
  const at = (t: tf.TensorInfo) =>
    backend.typedArrayFromHeap(t).byteOffset / Float32Array.BYTES_PER_ELEMENT;
  writeShiftedPatches(heap, at(xt), at(padded), at(patches), grid, info);
  spreadOutputGradient(heap, at(dy), at(dyGrid), grid, info);
  if (xt !== x) backend.disposeData(xt.dataId);
  backend.disposeData(padded.dataId);
  const product = shippedKernel("BatchMatMul")({
    inputs: { a: patches, b: dyGrid },
    backend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patches.dataId);
  backend.disposeData(dyGrid.dataId);
  product.shape = [...attrs.filterShape];
  return product;
}

/**
 * The input gradient in the SIMD kernels' `conv2d_input_grad`: per image,
 * the product dy · Wᵀ (every tap's contribution of every output pixel),
 * then each added to the input pixel it came from. Any stride, dilation
 * and padding.
 */
function colsInputGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  inputShape: number[],
): tf.TensorInfo {
  heapF32(backend, dy); // dtype checks
  heapF32(backend, filter);
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const dx = backend.makeOutput([...inputShape], "float32");
  const wt = backend.makeOutput(
    [Math.max(taps * info.outChannels, 1)],
    "float32",
  );
  const cols = backend.makeOutput(
    [Math.max(info.outHeight * info.outWidth * taps, 1)],
    "float32",
  );
  const threads = kernelThreads();
  const work = info.batchSize * info.outHeight * info.outWidth * taps *
    info.outChannels;
  if (
    threads !== undefined && info.batchSize >= 2 &&
    work >= MIN_THREADED_WORK
  ) {
    threadedInputGrad(
      backend,
      simd,
      threads,
      [dy, filter, dx, wt, cols],
      info,
    );
    backend.disposeData(wt.dataId);
    backend.disposeData(cols.dataId);
    return dx;
  }
  simd.conv2d_input_grad(
    address(backend, dy),
    address(backend, filter),
    address(backend, dx),
    address(backend, wt),
    address(backend, cols),
    ...geometryArgs(info, true),
  );
  backend.disposeData(wt.dataId);
  backend.disposeData(cols.dataId);
  return dx;
}

/**
 * `conv2d_input_grad` on two threads: images are independent, so the
 * threads share the batch in chunks, in place in the shared heap, each
 * with its own scratch (the worker's `wt` and `cols` are allocated here).
 */
function threadedInputGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  threads: KernelThreads,
  [dy, filter, dx, wt, cols]: tf.TensorInfo[],
  info: tf.backend_util.Conv2DInfo,
): void {
  const n = info.batchSize;
  const wt2 = backend.makeOutput([...wt.shape], "float32");
  const cols2 = backend.makeOutput([...cols.shape], "float32");
  try {
    const geometry = geometryArgs(info, true);
    const [dyAt, filterAt, dxAt] = [dy, filter, dx].map((t) =>
      address(backend, t)
    );
    const [wtAt, colsAt] = [wt, cols].map((t) => address(backend, t));
    threads.share(
      "conv2d_input_grad_images",
      [
        dyAt,
        filterAt,
        dxAt,
        ...[wt2, cols2].map((t) => address(backend, t)),
        ...geometry,
      ],
      { total: n, step: Math.ceil(n / CHUNKS) },
      (from, to) =>
        simd.conv2d_input_grad_images(
          dyAt,
          filterAt,
          dxAt,
          wtAt,
          colsAt,
          ...geometry,
          from,
          to,
        ),
    );
  } finally {
    backend.disposeData(wt2.dataId);
    backend.disposeData(cols2.dataId);
  }
}

/**
 * The input gradient: dy · Wᵀ for 1x1 convolutions; in `conv2d_input_grad`
 * for few input channels or inputs with at least twice the output's pixels
 * (`policy.ts`); else as a stride-1 convolution of the (zero-dilated)
 * output gradient with the rotated filter: XNNPACK's convolution instead of
 * tfjs-backend-wasm's loop-based Conv2DBackpropInput.
 */
function conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { dy, filter } = args.inputs as {
    dy: tf.TensorInfo;
    filter: tf.TensorInfo;
  };
  const attrs = attrsOf<
    ConvAttrs & {
      inputShape: [number, number, number, number];
    }
  >(args);
  checkNhwc("Conv2DBackpropInput", attrs);
  const info = convInfo(attrs.inputShape, filter.shape, attrs, false);
  const spanH = (info.filterHeight - 1) * info.dilationHeight;
  const spanW = (info.filterWidth - 1) * info.dilationWidth;
  const dilatedH = (info.outHeight - 1) * info.strideHeight + 1;
  const dilatedW = (info.outWidth - 1) * info.strideWidth + 1;
  const top = spanH - info.padInfo.top;
  const left = spanW - info.padInfo.left;
  const bottom = info.inHeight - dilatedH + spanH - top;
  const right = info.inWidth - dilatedW + spanW - left;
  const simd = simdKernelsFor(backend);
  if (
    simd !== undefined && info.filterHeight === 1 && info.filterWidth === 1 &&
    info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 &&
    info.outHeight === info.inHeight && info.outWidth === info.inWidth
  ) {
    // A 1x1 convolution is a product per pixel: dx = dy · Wᵀ, with W read
    // as [inChannels, outChannels] (no rotated copy, no XNNPACK operator
    // built around a new filter, which costs 60 ms at 1024x1024).
    return simdMatMulNt(backend, simd, dy, filter, [...attrs.inputShape]);
  }
  if (
    simd !== undefined &&
    (info.inChannels <= COLS_MAX_CHANNELS || colsInputGradPays(info))
  ) {
    return colsInputGrad(backend, simd, dy, filter, info, attrs.inputShape);
  }
  if (Math.min(top, left, bottom, right) < 0) {
    // Padding wider than the filter: rare; the shipped kernel handles it.
    return callOriginal("Conv2DBackpropInput", args);
  }
  const rotated = backend.makeOutput(
    [info.filterHeight, info.filterWidth, info.outChannels, info.inChannels],
    "float32",
  );
  rotateFilter(
    heapF32(backend, filter),
    filter.shape,
    backend.typedArrayFromHeap(rotated) as Float32Array,
  );
  let source = dy;
  if (info.strideHeight > 1 || info.strideWidth > 1) {
    source = backend.makeOutput(
      [info.batchSize, dilatedH, dilatedW, info.outChannels],
      "float32",
    );
    dilateRows(
      heapF32(backend, dy),
      dy.shape,
      info.strideHeight,
      info.strideWidth,
      backend.typedArrayFromHeap(source) as Float32Array,
    );
  }
  // Through this module's Conv2D: on two threads (conv2d_direct_rows) where the
  // kernel thread runs, else XNNPACK's.
  const dx = pointwiseConv("Conv2D", {
    inputs: { x: source, filter: rotated },
    backend,
    attrs: {
      strides: 1,
      pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
      dilations: [info.dilationHeight, info.dilationWidth],
      dataFormat: "NHWC",
    },
  }) as tf.TensorInfo;
  backend.disposeData(rotated.dataId);
  if (source !== dy) backend.disposeData(source.dataId);
  return dx;
}

/**
 * A convolution in the SIMD kernels, over a zero-padded copy of x:
 * `conv2d_one_channel_rows` for one input channel at stride 1,
 * `conv2d_direct_rows` otherwise; on two threads where they run.
 */
function directConv(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  relu: boolean,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { top, bottom, left, right } = info.padInfo;
  const hp = info.inHeight + top + bottom;
  const wp = info.inWidth + left + right;
  const ci = info.inChannels;
  const out = backend.makeOutput([...info.outShape], "float32");
  if (tf.util.sizeFromShape(info.outShape) === 0) return out;
  let padded = x;
  if (top || bottom || left || right) {
    padded = backend.makeOutput([info.batchSize, hp, wp, ci], "float32");
    simd.pad_nhwc(
      address(backend, x),
      address(backend, padded),
      info.batchSize,
      info.inHeight,
      info.inWidth,
      ci,
      top,
      bottom,
      left,
      right,
    );
  }
  const work = tf.util.sizeFromShape(info.outShape) * ci *
    info.filterHeight * info.filterWidth;
  const rows = info.batchSize * info.outHeight;
  const [xAt, filterAt, outAt] = [padded, filter, out].map((t) =>
    address(backend, t)
  );
  const oneChannel = ci === 1 && info.outWidth >= 8 &&
    info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1;
  rangeCall(
    simd,
    oneChannel ? "conv2d_one_channel_rows" : "conv2d_direct_rows",
    [
      xAt,
      filterAt,
      outAt,
      bias === undefined ? 0 : address(backend, bias),
      relu ? 1 : 0,
      info.batchSize,
      hp,
      wp,
      ci,
      info.outHeight,
      info.outWidth,
      info.outChannels,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
    ],
    rows,
    oneChannel ? ONE_CHANNEL_WORK_WEIGHT * work : work,
  );
  if (padded !== x) backend.disposeData(padded.dataId);
  return out;
}

/** A 1x1 convolution's geometry is a product per pixel: stride 1, no padding. */
function plainPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 &&
    info.outHeight === info.inHeight && info.outWidth === info.inWidth &&
    info.padInfo.top === 0 && info.padInfo.left === 0;
}

/**
 * Conv2D and FusedConv2D: a 1x1, stride-1, unpadded convolution (MobileNet's
 * pointwise layers) is one product per pixel, x · W, in the SIMD kernels
 * where the kernel thread runs or the filter is seen for the first time
 * (bias added; ReLU too on threads); a convolution over few input
 * channels, or any where the kernel thread runs, runs directly in the SIMD
 * kernels (bias added, linear or ReLU activation); everything else goes to
 * XNNPACK through the shipped kernel.
 */
function pointwiseConv(
  name: "Conv2D" | "FusedConv2D",
  args: KernelArgs,
): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: tf.TensorInfo;
    filter: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = attrsOf<ConvAttrs & { activation?: string }>(args);
  const simd = simdKernelsFor(backend);
  const [fh, fw, ci, co] = filter.shape;
  const activation = attrs.activation ?? "linear";
  const supported = simd !== undefined && x.shape.length === 4 &&
    x.shape[3] === ci && x.dtype === "float32" &&
    filter.dtype === "float32" && attrs.dataFormat !== "NCHW" &&
    preluActivationWeights === undefined &&
    (bias === undefined ||
      (bias.dtype === "float32" && bias.shape.length === 1 &&
        bias.shape[0] === co));
  if (!supported || (activation !== "linear" && activation !== "relu")) {
    return callOriginal(name, args);
  }
  const relu = activation === "relu";
  const info = convInfo(x.shape, filter.shape, attrs, false);
  const threads = kernelThreads() !== undefined;
  if (
    fh === 1 && fw === 1 && plainPointwise(info) &&
    (threads || (!relu && freshWeights(filter)))
  ) {
    // A product per pixel, in matmul_nn's blocks of 4 pixels, whatever the
    // map's size: conv2d_direct's blocks of 4 pixels along a row ran part
    // empty on MobileNet's 2x2 and 1x1 maps (alternated, one round each:
    // MobileNet's inference 606-711 against 849-958 samples/s, its
    // training 96-98 against 106-146). The same sums in the same order.
    return matmulNn(backend, simd!, x, filter, bias, [...info.outShape], relu);
  }
  if (co >= 4 && (ci <= DIRECT_MAX_CHANNELS || threads)) {
    return directConv(backend, simd!, x, filter, bias, relu, info);
  }
  return callOriginal(name, args);
}

function depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = attrsOf<
    ConvAttrs & {
      filterShape: [number, number, number, number];
    }
  >(args);
  const info = convInfo(x.shape, attrs.filterShape, attrs, true);
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) {
    return simdCall(
      backend,
      simd,
      "depthwise_filter_grad",
      x,
      dy,
      [...attrs.filterShape],
      geometryArgs(info, false),
    );
  }
  const grad = depthwiseFilterGrad(
    heapF32(backend, x),
    heapF32(backend, dy),
    info,
  );
  return outputFrom(backend, [...attrs.filterShape], grad);
}

function depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = wasmBackend(args);
  const { dy, filter } = args.inputs as {
    dy: tf.TensorInfo;
    filter: tf.TensorInfo;
  };
  const attrs = attrsOf<
    ConvAttrs & {
      inputShape: [number, number, number, number];
    }
  >(args);
  const info = convInfo(attrs.inputShape, filter.shape, attrs, true);
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) {
    return simdCall(
      backend,
      simd,
      "depthwise_input_grad",
      filter,
      dy,
      [...attrs.inputShape],
      geometryArgs(info, false),
    );
  }
  const grad = depthwiseInputGrad(
    heapF32(backend, dy),
    heapF32(backend, filter),
    info,
  );
  return outputFrom(backend, [...attrs.inputShape], grad);
}

/** The convolution kernels, for `register.ts`. */
export const CONVOLUTION_KERNELS: readonly KernelImpl[] = [
  { kernelName: "Conv2D", kernelFunc: (args) => pointwiseConv("Conv2D", args) },
  {
    kernelName: "FusedConv2D",
    kernelFunc: (args) => pointwiseConv("FusedConv2D", args),
  },
  { kernelName: "Conv2DBackpropFilter", kernelFunc: conv2dBackpropFilter },
  { kernelName: "Conv2DBackpropInput", kernelFunc: conv2dBackpropInput },
  {
    kernelName: "DepthwiseConv2dNativeBackpropFilter",
    kernelFunc: depthwiseBackpropFilter,
  },
  {
    kernelName: "DepthwiseConv2dNativeBackpropInput",
    kernelFunc: depthwiseBackpropInput,
  },
];
