/**
 * Training kernels that tfjs-backend-wasm 4.22 lacks, registered for
 * `wasm`: the filter gradient of a convolution (every convnet needs it) and
 * both gradients of a depthwise convolution (MobileNet needs them).
 *
 * The filter gradient is one matrix product, patches(x)ᵀ · dy, so it runs
 * in XNNPACK through wasm's own `BatchMatMul` kernel; the patches are
 * written straight into the wasm heap. The depthwise gradients are cheap
 * (a few multiply-adds per element) and run as plain loops on the heap.
 *
 * @example
 * ```ts
 * import { registerWasmTrainingKernels } from "./wasm_kernels.ts";
 * registerWasmTrainingKernels();
 * ```
 *
 * @module
 */
import * as tf from "../tf.ts";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import {
  depthwiseFilterGrad,
  depthwiseInputGrad,
  dilateRows,
  im2colTransposed,
  maxPoolGrad,
  rotateFilter,
  shiftedPatchGrid,
  spreadOutputGradient,
  writeShiftedPatches,
} from "./_conv_loops.ts";
import { type SimdKernels, simdKernelsFor } from "./simd_kernels.ts";
import { type KernelThreads, kernelThreads } from "./kernel_threads.ts";
import {
  colsInputGradPays,
  registerFusedKernels,
  sumTwoAxes,
} from "./fused_kernels.ts";

/** Names of the kernels {@linkcode registerWasmTrainingKernels} adds. */
export const WASM_TRAINING_KERNELS: readonly string[] = [
  "Conv2DBackpropFilter",
  "DepthwiseConv2dNativeBackpropFilter",
  "DepthwiseConv2dNativeBackpropInput",
];

type ConvAttrs = {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: number | [number, number];
  dataFormat?: "NHWC" | "NCHW";
};

type Shape4 = [number, number, number, number];

/** The convolution geometry of a kernel call, as tfjs computes it. */
function _convInfo(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: ConvAttrs,
  depthwise: boolean,
): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    inputShape as Shape4,
    filterShape as Shape4,
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

type KernelArgs = {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
};

function _checkNhwc(kernel: string, attrs: ConvAttrs): void {
  if (attrs.dataFormat === "NCHW") {
    throw new Error(
      `${kernel} on wasm supports only NHWC (channelsLast) data; ` +
        `build the model with dataFormat "channelsLast".`,
    );
  }
}

function _heapF32(backend: BackendWasm, info: tf.TensorInfo): Float32Array {
  if (info.dtype !== "float32") {
    throw new Error(
      `expected a float32 tensor, got ${info.dtype}; cast it first.`,
    );
  }
  return backend.typedArrayFromHeap(info) as Float32Array;
}

function _outputFrom(
  backend: BackendWasm,
  shape: number[],
  values: Float32Array,
): tf.TensorInfo {
  const out = backend.makeOutput(shape, "float32");
  (backend.typedArrayFromHeap(out) as Float32Array).set(values);
  return out;
}

/** A tensor's byte address in the wasm heap, for the SIMD kernels. */
function _address(backend: BackendWasm, info: tf.TensorInfo): number {
  return _heapF32(backend, info).byteOffset;
}

/**
 * The geometry arguments the SIMD kernels take after their pointers: n, h,
 * w, channels, outHeight, outWidth, [outChannels,] filter, strides,
 * dilations, top and left padding.
 */
function _geometryArgs(
  info: tf.backend_util.Conv2DInfo,
  withOutChannels: boolean,
): number[] {
  return [
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.outHeight,
    info.outWidth,
    ...(withOutChannels ? [info.outChannels] : []),
    info.filterHeight,
    info.filterWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    info.padInfo.top,
    info.padInfo.left,
  ];
}

/**
 * Runs SIMD kernel `name` as out = f(a, b) in the heap: allocates the
 * output tensor, then passes the three addresses and the geometry.
 */
function _simdCall(
  backend: BackendWasm,
  kernels: SimdKernels,
  name: keyof SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
  geometry: number[],
): tf.TensorInfo {
  const out = backend.makeOutput(outShape, "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  kernels[name](
    _address(backend, a),
    _address(backend, b),
    _address(backend, out),
    ...geometry,
  );
  return out;
}

function _kernel(name: string): tf.KernelFunc {
  const kernel = _originals.get(name) ?? tf.getKernel(name, "wasm");
  if (kernel === undefined) {
    throw new Error(`tfjs-backend-wasm has no ${name} kernel; is it loaded?`);
  }
  return kernel.kernelFunc;
}

/**
 * The filter gradient as patches(x)ᵀ · dy with the patches written element
 * by element: for geometries where the shifted-row grid of
 * {@linkcode writeShiftedPatches} would waste too many columns.
 */
function _im2colFilterGrad(
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
    _heapF32(backend, x),
    info,
    backend.typedArrayFromHeap(patches) as Float32Array,
  );
  const dy3 = {
    dataId: dy.dataId,
    shape: [1, cols, info.outChannels],
    dtype: dy.dtype,
  };
  const product = _kernel("BatchMatMul")({
    inputs: { a: patches, b: dy3 },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patches.dataId);
  product.shape = [...filterShape];
  return product;
}

/**
 * Multiply-adds below which a kernel stays on one thread: a hand-off costs
 * a round trip (10-20 µs).
 */
const _MIN_THREADED_WORK = 1 << 22;

/** The SIMD kernels that compute a range of their output's rows or units. */
type RangeKernel =
  | "conv2d_filter_grad_units"
  | "conv2d_direct_rows"
  | "conv2d_one_channel_rows"
  | "conv2d_filter_grad_one_channel"
  | "max_pool_grad_rows"
  | "leaky_relu_range"
  | "matmul_nn_rows"
  | "matmul_nt_cols";

/**
 * Runs range kernel `name` with `args` over [0, total): shared with the
 * kernel thread in chunks where it runs and `work` (multiply-adds) is
 * worth a hand-off, else all here. The kernels compute every part alike
 * however it is split, so the result is the same bit for bit.
 */
function _rangeCall(
  simd: SimdKernels,
  name: RangeKernel,
  args: readonly number[],
  total: number,
  work: number,
  chunks = _CHUNKS,
): void {
  const threads = kernelThreads();
  if (threads === undefined || total < 2 || work < _MIN_THREADED_WORK) {
    simd[name](...args, 0, total);
    return;
  }
  threads.share(
    name,
    args,
    { total, step: Math.ceil(total / chunks) },
    (from, to) => simd[name](...args, from, to),
  );
}

/**
 * The filter gradient (fh x fw x ci x co values, shaped `outShape`) of a
 * convolution with the given geometry ({@linkcode _geometryArgs}, with
 * output channels) in `conv2d_filter_grad_units`, on two threads where
 * they run.
 */
function _simdFilterGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  outShape: readonly number[],
  geometry: number[],
): tf.TensorInfo {
  const out = backend.makeOutput([...outShape], "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  const [n, , , ci, oh, ow, co, fh, fw] = geometry;
  const pixels = n * oh * ow;
  _rangeCall(
    simd,
    "conv2d_filter_grad_units",
    [
      _address(backend, x),
      _address(backend, dy),
      _address(backend, out),
      ...geometry,
    ],
    fh * fw * Math.ceil(ci / 4),
    pixels * fh * fw * ci * co,
  );
  return out;
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
function _oneChannelFilterGrad(
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
  _heapF32(backend, x); // dtype checks
  _heapF32(backend, dy);
  const rows = n * oh;
  const chunkRows = Math.ceil(rows / _CHUNKS);
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
    ].map((t) => _address(backend, t));
    simd.pad_nhwc(xAt, xpAt, n, h, w, 1, top, bottom, left, right);
    _rangeCall(
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
      rows * ow * size,
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
 * C = A · Bᵀ (A [m, k], B [n, k], read from their last axis) in
 * `matmul_nt_cols`, on two threads where they run; C is shaped
 * `outShape`.
 */
function _simdMatMulNt(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  outShape: number[],
): tf.TensorInfo {
  const k = a.shape[a.shape.length - 1];
  const m = tf.util.sizeFromShape(a.shape) / Math.max(k, 1);
  const n = tf.util.sizeFromShape(b.shape) / Math.max(k, 1);
  const out = backend.makeOutput(outShape, "float32");
  if (m * n === 0) return out;
  _rangeCall(
    simd,
    "matmul_nt_cols",
    [
      _address(backend, a),
      _address(backend, b),
      _address(backend, out),
      m,
      n,
      k,
    ],
    n,
    m * n * k,
    _PRODUCT_CHUNKS,
  );
  return out;
}

/**
 * Chunks of a threaded matrix product: one per thread, as every chunk
 * streams the whole of one operand (B for rows of A · B, A for columns of
 * A · Bᵀ); with more, small-batch products (MobileNet's pointwise layers
 * on 2x2 images) became memory-bound and slower than one thread.
 */
const _PRODUCT_CHUNKS = 2;

/**
 * How many chunks a threaded kernel's work is cut into: enough that a
 * thread which starts late (a worker waking up, or descheduled under load)
 * leaves its chunks to the other, few enough to keep calls cheap.
 */
const _CHUNKS = 8;

/**
 * The filter gradient as one matrix product, patches · dyGrid, in XNNPACK.
 * The patches are copied a whole image row (or more) at a time from a
 * padded channel-major copy of the input ({@linkcode writeShiftedPatches}),
 * at the cost of some zero columns; when those would be too many, the
 * element-wise im2col is used instead.
 */
function _conv2dBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & {
    filterShape: [number, number, number, number];
  };
  _checkNhwc("Conv2DBackpropFilter", attrs);
  const info = _convInfo(x.shape, attrs.filterShape, attrs, false);
  const columns = info.batchSize * info.outHeight * info.outWidth;
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && columns >= _MIN_SIMD_PIXELS) {
    const oneChannel = _oneChannelFilterGrad(
      backend,
      simd,
      x,
      dy,
      info,
      attrs.filterShape,
    );
    if (oneChannel !== undefined) return oneChannel;
    return _simdFilterGrad(
      backend,
      simd,
      x,
      dy,
      attrs.filterShape,
      _geometryArgs(info, true),
    );
  }
  const grid = shiftedPatchGrid(info);
  if (grid.columns > 1.25 * columns) {
    return _im2colFilterGrad(backend, x, dy, info, attrs.filterShape);
  }
  _heapF32(backend, x); // dtype checks
  _heapF32(backend, dy);
  const { inChannels: ci, outChannels: co } = info;
  // Channel-major input, so that each patch row is made of whole image rows.
  const xt = ci === 1 ? x : _kernel("Transpose")({
    inputs: { x },
    backend: backend as unknown as tf.KernelBackend,
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
  const product = _kernel("BatchMatMul")({
    inputs: { a: patches, b: dyGrid },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  backend.disposeData(patches.dataId);
  backend.disposeData(dyGrid.dataId);
  product.shape = [...attrs.filterShape];
  return product;
}

/**
 * Up to this many input channels, the input gradient runs in the SIMD
 * kernels' `conv2d_input_grad` rather than as an XNNPACK convolution, which
 * does poorly producing so few channels (LeNet-5's second layer, 6 input
 * channels: measured ~2.3 ms against ~4 ms); with 16 or 32 (the CIFAR CNN)
 * XNNPACK was as fast or faster.
 */
const _COLS_MAX_CHANNELS = 8;

/**
 * The input gradient in the SIMD kernels' `conv2d_input_grad`: per image,
 * the product dy · Wᵀ (every tap's contribution of every output pixel),
 * then each added to the input pixel it came from. Any stride, dilation
 * and padding.
 */
function _colsInputGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  inputShape: number[],
): tf.TensorInfo {
  _heapF32(backend, dy); // dtype checks
  _heapF32(backend, filter);
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
    work >= _MIN_THREADED_WORK
  ) {
    _threadedInputGrad(
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
    _address(backend, dy),
    _address(backend, filter),
    _address(backend, dx),
    _address(backend, wt),
    _address(backend, cols),
    ..._geometryArgs(info, true),
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
function _threadedInputGrad(
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
    const geometry = _geometryArgs(info, true);
    const [dyAt, filterAt, dxAt] = [dy, filter, dx].map((t) =>
      _address(backend, t)
    );
    const here = [
      dyAt,
      filterAt,
      dxAt,
      ...[wt, cols].map((t) => _address(backend, t)),
    ];
    threads.share(
      "conv2d_input_grad_images",
      [
        dyAt,
        filterAt,
        dxAt,
        ...[wt2, cols2].map((t) => _address(backend, t)),
        ...geometry,
      ],
      { total: n, step: Math.ceil(n / _CHUNKS) },
      (from, to) =>
        simd.conv2d_input_grad_images(...here, ...geometry, from, to),
    );
  } finally {
    backend.disposeData(wt2.dataId);
    backend.disposeData(cols2.dataId);
  }
}

/**
 * The input gradient as a stride-1 convolution of the (zero-dilated) output
 * gradient with the rotated filter: XNNPACK's convolution instead of
 * tfjs-backend-wasm's loop-based Conv2DBackpropInput.
 */
function _conv2dBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as {
    dy: tf.TensorInfo;
    filter: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as ConvAttrs & {
    inputShape: [number, number, number, number];
  };
  _checkNhwc("Conv2DBackpropInput", attrs);
  const info = _convInfo(attrs.inputShape, filter.shape, attrs, false);
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
    return _simdMatMulNt(backend, simd, dy, filter, [...attrs.inputShape]);
  }
  if (
    simd !== undefined &&
    (info.inChannels <= _COLS_MAX_CHANNELS || colsInputGradPays(info))
  ) {
    return _colsInputGrad(backend, simd, dy, filter, info, attrs.inputShape);
  }
  if (Math.min(top, left, bottom, right) < 0) {
    // Padding wider than the filter: rare; the shipped kernel handles it.
    return _originalKernel("Conv2DBackpropInput")(
      args as never,
    ) as tf.TensorInfo;
  }
  const rotated = backend.makeOutput(
    [info.filterHeight, info.filterWidth, info.outChannels, info.inChannels],
    "float32",
  );
  rotateFilter(
    _heapF32(backend, filter),
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
      _heapF32(backend, dy),
      dy.shape,
      info.strideHeight,
      info.strideWidth,
      backend.typedArrayFromHeap(source) as Float32Array,
    );
  }
  // Through this module's Conv2D: on two threads (conv2d_direct_rows) where the
  // kernel thread runs, else XNNPACK's.
  const dx = _pointwiseConv("Conv2D", {
    inputs: { x: source, filter: rotated },
    backend: backend as unknown as tf.KernelBackend,
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
 * Below this many output pixels (the length of each dot product), the
 * SIMD filter gradient loses to XNNPACK's product: each of its register
 * blocks then does too little work (measured: 8 pixels of a 1024x1024 1x1
 * convolution, 7.5 ms against 1.1 ms; 128 pixels of 128x256, 0.27 against
 * 0.54 ms).
 */
const _MIN_SIMD_PIXELS = 64;

/**
 * A product operand as a matrix [rows, cols]: rank 2, or rank 3 with batch
 * 1 (tfjs passes either); `undefined` for batched or non-float32 ones.
 */
function _matrix(t: tf.TensorInfo): [number, number] | undefined {
  if (t.dtype !== "float32") return undefined;
  if (t.shape.length === 2) return [t.shape[0], t.shape[1]];
  if (t.shape.length === 3 && t.shape[0] === 1) {
    return [t.shape[1], t.shape[2]];
  }
  return undefined;
}

/**
 * One matrix product with one transposed operand (batch 1, float32) in the
 * SIMD kernels, or `undefined` for other cases: Aᵀ·B is the filter
 * gradient of a 1x1 convolution over a column of `k` pixels; A·Bᵀ is
 * `matmul_nt`.
 */
function _simdMatMul(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  transposeA: boolean,
): tf.TensorInfo | undefined {
  const am = _matrix(a), bm = _matrix(b);
  if (am === undefined || bm === undefined) return undefined;
  const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
  if (transposeA) {
    const [k, m] = am;
    const n = bm[1];
    if (k < _MIN_SIMD_PIXELS) return undefined;
    return _simdFilterGrad(backend, simd, a, b, [...lead, m, n], [
      1,
      k,
      1,
      m,
      k,
      1,
      n,
      1,
      1,
      1,
      1,
      1,
      1,
      0,
      0,
    ]);
  }
  return _simdMatMulNt(backend, simd, a, b, [...lead, am[0], bm[0]]);
}

/**
 * Weights (B operands, filters) that a product has already seen: XNNPACK
 * keeps the operator it builds around such a tensor, so the next product
 * with it is cheap. A tensor seen for the first time (a trained weight is a
 * new tensor after every step) goes to the SIMD `matmul_nn` instead, which
 * packs nothing.
 */
const _seenWeights = new WeakSet<object>();

/** True the first time `weights` is asked about, false after that. */
function _freshWeights(weights: tf.TensorInfo): boolean {
  if (_seenWeights.has(weights.dataId)) return false;
  _seenWeights.add(weights.dataId);
  return true;
}

/**
 * C = A · B (+ bias, then ReLU where `relu`) for A [m, k] and B [k, n] in
 * the SIMD kernels, on two threads where they run; `a` and `b` may carry
 * leading 1s in their shapes.
 */
function _matmulNn(
  backend: BackendWasm,
  simd: SimdKernels,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  outShape: number[],
  relu = false,
): tf.TensorInfo {
  const k = a.shape[a.shape.length - 1];
  const n = b.shape[b.shape.length - 1];
  const m = tf.util.sizeFromShape(a.shape) / Math.max(k, 1);
  const out = backend.makeOutput(outShape, "float32");
  if (m * n === 0) return out;
  // Addresses after the allocation: they stay valid when the heap grows.
  _rangeCall(
    simd,
    "matmul_nn_rows",
    [
      _address(backend, a),
      _address(backend, b),
      _address(backend, out),
      bias === undefined ? 0 : _address(backend, bias),
      relu ? 1 : 0,
      m,
      n,
      k,
    ],
    m,
    m * n * k,
    _PRODUCT_CHUNKS,
  );
  return out;
}

/**
 * _FusedMatMul (a dense layer's forward pass) without transposes, on a
 * weight seen for the first time (see {@linkcode _freshWeights}), with a
 * per-column bias or none and a linear or ReLU activation, in the SIMD
 * kernels (on two threads where they run); anything else in the shipped
 * kernel (XNNPACK, which first packs a new weight: 3 ms for 4096x256).
 */
function _fusedMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b, bias, preluActivationWeights } = args.inputs as {
    a: tf.TensorInfo;
    b: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const { transposeA, transposeB, activation } = args.attrs as unknown as {
    transposeA: boolean;
    transposeB: boolean;
    activation?: string;
  };
  const simd = simdKernelsFor(backend);
  const am = _matrix(a), bm = _matrix(b);
  const act = activation ?? "linear";
  if (
    simd !== undefined && am !== undefined && bm !== undefined &&
    !transposeA && !transposeB && am[1] === bm[0] &&
    preluActivationWeights === undefined &&
    (act === "linear" || act === "relu") &&
    (bias === undefined ||
      (bias.dtype === "float32" && bias.shape.length === 1 &&
        bias.shape[0] === bm[1])) &&
    _freshWeights(b)
  ) {
    const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
    return _matmulNn(
      backend,
      simd,
      a,
      b,
      bias,
      [...lead, am[0], bm[1]],
      act === "relu",
    );
  }
  return _originalKernel("_FusedMatMul")(args as never) as tf.TensorInfo;
}

/**
 * A product without transposes on a weight seen for the first time (see
 * {@linkcode _freshWeights}), batch 1, float32, in the SIMD kernels; or
 * `undefined` for the shipped kernel.
 */
function _freshMatMul(
  backend: BackendWasm,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
): tf.TensorInfo | undefined {
  const simd = simdKernelsFor(backend);
  const am = _matrix(a), bm = _matrix(b);
  if (
    simd === undefined || am === undefined || bm === undefined ||
    !_freshWeights(b)
  ) {
    return undefined;
  }
  const lead = a.shape.length === 3 || b.shape.length === 3 ? [1] : [];
  return _matmulNn(backend, simd, a, b, undefined, [...lead, am[0], bm[1]]);
}

/**
 * BatchMatMul with the transposes done first: tfjs-backend-wasm's product
 * with a transposed operand is several times slower than a transpose plus
 * an untransposed product (dense layers' gradients use both).
 */
function _batchMatMul(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as unknown as {
    transposeA: boolean;
    transposeB: boolean;
  };
  const original = _originalKernel("BatchMatMul");
  if (!transposeA && !transposeB) {
    return _freshMatMul(backend, a, b) ??
      original(args as never) as tf.TensorInfo;
  }
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && transposeA !== transposeB) {
    const product = _simdMatMul(backend, simd, a, b, transposeA);
    if (product !== undefined) return product;
  }
  const transpose = (t: tf.TensorInfo): tf.TensorInfo => {
    const perm = t.shape.map((_, i) => i);
    perm.push(...perm.splice(-2).reverse());
    return _kernel("Transpose")({
      inputs: { x: t },
      backend: backend as unknown as tf.KernelBackend,
      attrs: { perm },
    }) as tf.TensorInfo;
  };
  const a2 = transposeA ? transpose(a) : a;
  const b2 = transposeB ? transpose(b) : b;
  const out = _freshMatMul(backend, a2, b2) ?? original({
    inputs: { a: a2, b: b2 },
    backend: backend as unknown as tf.KernelBackend,
    attrs: { transposeA: false, transposeB: false },
  }) as tf.TensorInfo;
  if (a2 !== a) backend.disposeData(a2.dataId);
  if (b2 !== b) backend.disposeData(b2.dataId);
  return out;
}

/**
 * Up to this many input channels (grey and RGB images), a convolution runs
 * in the SIMD kernels' `conv2d_direct_rows` rather than in XNNPACK, whose packed
 * kernels do poorly with so few: LeNet-5's first layer (1 -> 6 channels,
 * batch 64) measured ~1.6 ms against XNNPACK's ~2.6 ms; at 6 input
 * channels the two were even, and from 16 on too (34 GFLOP/s each). With
 * the kernel thread running, every convolution goes to `conv2d_direct_rows`,
 * on two threads (XNNPACK's runs on one here).
 */
const _DIRECT_MAX_CHANNELS = 3;

/**
 * A convolution in the SIMD kernels, over a zero-padded copy of x:
 * `conv2d_one_channel_rows` for one input channel at stride 1,
 * `conv2d_direct_rows` otherwise; on two threads where they run.
 */
function _directConv(
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
      _address(backend, x),
      _address(backend, padded),
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
    _address(backend, t)
  );
  const oneChannel = ci === 1 && info.outWidth >= 8 &&
    info.strideHeight === 1 && info.strideWidth === 1 &&
    info.dilationHeight === 1 && info.dilationWidth === 1;
  _rangeCall(
    simd,
    oneChannel ? "conv2d_one_channel_rows" : "conv2d_direct_rows",
    [
      xAt,
      filterAt,
      outAt,
      bias === undefined ? 0 : _address(backend, bias),
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
    work,
  );
  if (padded !== x) backend.disposeData(padded.dataId);
  return out;
}

/**
 * Conv2D and FusedConv2D: a 1x1, stride-1, unpadded convolution (MobileNet's
 * pointwise layers) with a filter seen for the first time is one product
 * per pixel, x · W, in the SIMD kernels (bias added, linear activation
 * only); a convolution over few input channels runs directly in the SIMD
 * kernels (bias added, linear or ReLU activation); everything else goes to
 * XNNPACK through the shipped kernel.
 */
function _pointwiseConv(
  name: "Conv2D" | "FusedConv2D",
  args: KernelArgs,
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, filter, bias, preluActivationWeights } = args.inputs as {
    x: tf.TensorInfo;
    filter: tf.TensorInfo;
    bias?: tf.TensorInfo;
    preluActivationWeights?: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as ConvAttrs & { activation?: string };
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
  if (
    supported && co >= 4 &&
    (ci <= _DIRECT_MAX_CHANNELS || kernelThreads() !== undefined) &&
    (activation === "linear" || activation === "relu")
  ) {
    const info = _convInfo(x.shape, filter.shape, attrs, false);
    return _directConv(
      backend,
      simd!,
      x,
      filter,
      bias,
      activation === "relu",
      info,
    );
  }
  if (supported && fh === 1 && fw === 1 && activation === "linear") {
    const info = _convInfo(x.shape, filter.shape, attrs, false);
    const plain = info.strideHeight === 1 && info.strideWidth === 1 &&
      info.outHeight === info.inHeight && info.outWidth === info.inWidth &&
      info.padInfo.top === 0 && info.padInfo.left === 0;
    if (plain && _freshWeights(filter)) {
      return _matmulNn(backend, simd!, x, filter, bias, [...info.outShape]);
    }
  }
  return _originalKernel(name)(args as never) as tf.TensorInfo;
}

function _depthwiseBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as ConvAttrs & {
    filterShape: [number, number, number, number];
  };
  const info = _convInfo(x.shape, attrs.filterShape, attrs, true);
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) {
    return _simdCall(
      backend,
      simd,
      "depthwise_filter_grad",
      x,
      dy,
      [...attrs.filterShape],
      _geometryArgs(info, false),
    );
  }
  const grad = depthwiseFilterGrad(
    _heapF32(backend, x),
    _heapF32(backend, dy),
    info,
  );
  return _outputFrom(backend, [...attrs.filterShape], grad);
}

function _depthwiseBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs as {
    dy: tf.TensorInfo;
    filter: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as ConvAttrs & {
    inputShape: [number, number, number, number];
  };
  const info = _convInfo(attrs.inputShape, filter.shape, attrs, true);
  const simd = simdKernelsFor(backend);
  if (simd !== undefined && info.outChannels === info.inChannels) {
    return _simdCall(
      backend,
      simd,
      "depthwise_input_grad",
      filter,
      dy,
      [...attrs.inputShape],
      _geometryArgs(info, false),
    );
  }
  const grad = depthwiseInputGrad(
    _heapF32(backend, dy),
    _heapF32(backend, filter),
    info,
  );
  return _outputFrom(backend, [...attrs.inputShape], grad);
}

/** Max-pool gradient as a JS loop on the heap: 2-4x the shipped kernel. */
function _maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs as {
    dy: tf.TensorInfo;
    input: tf.TensorInfo;
  };
  const attrs = args.attrs as unknown as ConvAttrs & {
    filterSize: number | [number, number];
  };
  const info = tf.backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const simd = simdKernelsFor(backend);
  const disjoint = info.filterHeight <= info.strideHeight &&
    info.filterWidth <= info.strideWidth && info.dilationHeight === 1 &&
    info.dilationWidth === 1;
  if (simd !== undefined && disjoint) {
    // Windows that do not overlap (2x2 stride 2): rows are independent, and
    // shared with the kernel thread where it runs.
    _heapF32(backend, input); // dtype checks
    _heapF32(backend, dy);
    const dx = backend.makeOutput([...input.shape], "float32");
    _rangeCall(
      simd,
      "max_pool_grad_rows",
      [
        _address(backend, input),
        _address(backend, dy),
        _address(backend, dx),
        ..._geometryArgs(info, false),
      ],
      info.batchSize * info.outHeight,
      // Not multiply-adds: a few compares per input value, weighted alike.
      16 * tf.util.sizeFromShape(input.shape),
    );
    return dx;
  }
  if (simd !== undefined) {
    return _simdCall(
      backend,
      simd,
      "max_pool_grad",
      input,
      dy,
      [...input.shape],
      _geometryArgs(info, false),
    );
  }
  const dx = backend.makeOutput([...input.shape], "float32");
  const out = backend.typedArrayFromHeap(dx) as Float32Array;
  out.fill(0);
  maxPoolGrad(_heapF32(backend, input), _heapF32(backend, dy), info, out);
  return dx;
}

/**
 * GatherV2 along the first axis (how `model.fit` slices its batches) as one
 * heap copy per index: the shipped kernel walks every element through
 * generic strides, ~50 times slower for a batch of images.
 */
function _gatherV2(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, indices } = args.inputs as {
    x: tf.TensorInfo;
    indices: tf.TensorInfo;
  };
  const { axis, batchDims } = args.attrs as unknown as {
    axis: number;
    batchDims?: number;
  };
  const first = tf.util.parseAxisParam(axis, x.shape)[0] === 0;
  if (
    !first || (batchDims ?? 0) !== 0 || indices.dtype !== "int32" ||
    (x.dtype !== "float32" && x.dtype !== "int32")
  ) {
    return _originalKernel("GatherV2")(args as never) as tf.TensorInfo;
  }
  const rows = backend.typedArrayFromHeap(indices) as Int32Array;
  const count = x.shape[0];
  for (const row of rows) {
    if (!(row >= 0 && row < count)) {
      throw new Error(
        `GatherV2: the index value ${row} is not in [0, ${count - 1}]`,
      );
    }
  }
  const rowSize = tf.util.sizeFromShape(x.shape.slice(1));
  const out = backend.makeOutput(
    [...indices.shape, ...x.shape.slice(1)],
    x.dtype,
  );
  // Views after the allocation: the heap may have grown. Int32 copies move
  // float32 bits unchanged.
  const from = backend.typedArrayFromHeap(x);
  const heap = new Int32Array(from.buffer as ArrayBuffer);
  const src = from.byteOffset / 4;
  let dst = backend.typedArrayFromHeap(out).byteOffset / 4;
  const picks = backend.typedArrayFromHeap(indices) as Int32Array;
  for (let i = 0; i < picks.length; i++, dst += rowSize) {
    const start = src + picks[i] * rowSize;
    heap.copyWithin(dst, start, start + rowSize);
  }
  return out;
}

/**
 * Slice read straight from the heap. The shipped kernel first copies the
 * whole input out of the heap (`readSync`), so slicing a batch off a large
 * tensor costs a copy of the large tensor (LeNet-5 inference over 1,920
 * images spent 85% of its time there). Runs along the last axis are
 * copied whole.
 */
function _slice(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { begin, size } = args.attrs as unknown as {
    begin: number | number[];
    size?: number | number[];
  };
  if (x.dtype === "string") {
    return _originalKernel("Slice")(args as never) as tf.TensorInfo;
  }
  const [start, extent] = tf.slice_util.parseSliceParams(
    x as tf.Tensor,
    begin,
    size,
  );
  const out = backend.makeOutput(extent, x.dtype);
  const total = tf.util.sizeFromShape(extent);
  if (total === 0) return out;
  // Views after the allocation: the heap may have grown.
  const from = backend.typedArrayFromHeap(x);
  const to = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, start, extent)) {
    const offset = tf.slice_util.computeFlatOffset(start, strides);
    to.set(from.subarray(offset, offset + total));
    return out;
  }
  const rank = x.shape.length;
  const run = extent[rank - 1];
  const index = new Array<number>(rank - 1).fill(0);
  for (let done = 0; done < total; done += run) {
    let offset = start[rank - 1];
    for (let d = 0; d < rank - 1; d++) {
      offset += (start[d] + index[d]) * strides[d];
    }
    to.set(from.subarray(offset, offset + run), done);
    for (let d = rank - 2; d >= 0; d--) {
      if (++index[d] < extent[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/**
 * Tile that only repeats the whole tensor (every repeated axis comes before
 * the first axis longer than 1), as the batch-norm gradient's broadcasts of
 * per-channel values do: block copies, doubling, instead of the shipped
 * kernel's per-element index arithmetic (~50 ms per MobileNet step).
 */
function _tile(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { reps } = args.attrs as unknown as { reps: number[] };
  let first = x.shape.findIndex((d) => d !== 1);
  if (first < 0) first = x.shape.length;
  if (
    (x.dtype !== "float32" && x.dtype !== "int32") ||
    reps.length !== x.shape.length || reps.slice(first).some((r) => r !== 1)
  ) {
    return _originalKernel("Tile")(args as never) as tf.TensorInfo;
  }
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  // Views after the allocation: the heap may have grown.
  const from = backend.typedArrayFromHeap(x);
  const heap = new Int32Array(from.buffer as ArrayBuffer);
  const start = backend.typedArrayFromHeap(out).byteOffset / 4;
  const size = from.length;
  const total = size * reps.reduce((a, b) => a * b, 1);
  if (total === 0) return out;
  heap.copyWithin(start, from.byteOffset / 4, from.byteOffset / 4 + size);
  for (let done = size; done < total; done *= 2) {
    heap.copyWithin(start + done, start, start + Math.min(done, total - done));
  }
  return out;
}

/**
 * Identity as a new reference to the same heap buffer, as Reshape (and the
 * cpu backend's Identity) do, instead of a copy: tfjs tensors are never
 * written in place, and the gradient tape and tfjs-layers call Identity
 * hundreds of times per step (MobileNet: ~880).
 */
function _identity(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === "string") {
    return _originalKernel("Identity")(args as never) as tf.TensorInfo;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Sum over every axis but the last (a bias gradient) as SIMD column sums;
 * the shipped kernel transposes the whole tensor first to bring the summed
 * axes last. Other reductions go to the shipped kernel.
 */
function _sum(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as {
    axis: number | number[];
    keepDims: boolean;
  };
  const simd = simdKernelsFor(backend);
  const rank = x.shape.length;
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = rank >= 2 && axes.length === rank - 1 &&
    axes.every((a, i) => a === i);
  if (simd === undefined || !leading || x.dtype !== "float32") {
    return sumTwoAxes(backend, x, axis, keepDims) ?? // fused_kernels.ts
      _originalKernel("Sum")(args as never) as tf.TensorInfo;
  }
  const cols = x.shape[rank - 1];
  const shape = keepDims ? [...x.shape.slice(0, -1).map(() => 1), cols] : [
    cols,
  ];
  const out = backend.makeOutput(shape, "float32");
  simd.sum_rows(
    _address(backend, x),
    _address(backend, out),
    tf.util.sizeFromShape(x.shape) / Math.max(cols, 1),
    cols,
  );
  return out;
}

/** The `column_op` code of each binary kernel it serves. */
const _COLUMN_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 } as const;

/** True when `t` holds one value per column of a tensor of `shape`. */
function _perColumn(t: tf.TensorInfo, shape: readonly number[]): boolean {
  const cols = shape[shape.length - 1];
  return t.shape.length >= 1 && t.shape.length <= shape.length &&
    t.shape[t.shape.length - 1] === cols &&
    t.shape.slice(0, -1).every((d) => d === 1);
}

/**
 * Add, Sub, Multiply and RealDiv of a tensor and a per-channel vector (a
 * bias, a batch-norm mean or scale) as one SIMD pass: the shipped kernels
 * broadcast through generic index arithmetic, ~5x slower. Other shapes and
 * dtypes go to the shipped kernels.
 */
function _columnBinary(
  name: keyof typeof _COLUMN_OPS,
  args: KernelArgs,
): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const simd = simdKernelsFor(backend);
  if (
    simd !== undefined && a.dtype === "float32" && b.dtype === "float32" &&
    a.shape.length > 0 && b.shape.length > 0
  ) {
    const same = (s: readonly number[], t: readonly number[]) =>
      s.length === t.length && s.every((d, i) => d === t[i]);
    const swap = !(a.shape.length >= b.shape.length && _perColumn(b, a.shape));
    const [big, vector] = swap ? [b, a] : [a, b];
    if (
      _perColumn(vector, big.shape) && !same(vector.shape, big.shape) &&
      vector.shape.length <= big.shape.length
    ) {
      const out = backend.makeOutput([...big.shape], "float32");
      const cols = big.shape[big.shape.length - 1];
      const size = tf.util.sizeFromShape(big.shape);
      if (size === 0) return out;
      simd.column_op(
        _address(backend, big),
        _address(backend, vector),
        _address(backend, out),
        size / cols,
        cols,
        _COLUMN_OPS[name],
        swap ? 1 : 0,
      );
      return out;
    }
  }
  return _originalKernel(name)(args as never) as tf.TensorInfo;
}

/** The wasm kernel behind the LeakyRelu gradient, see {@linkcode _leakyReluGrad}. */
const _LEAKY_RELU_GRAD = "ProjectLeakyReluGrad";

function _leakyReluGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { alpha } = args.attrs as unknown as { alpha: number };
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.leaky_relu_grad(
    _address(backend, x),
    _address(backend, dy),
    _address(backend, out),
    tf.util.sizeFromShape(x.shape),
    alpha,
  );
  return out;
}

/**
 * LeakyRelu in one SIMD pass (on two threads where they run, for large
 * tensors); the shipped kernel goes one element at a time (1.2 ms for the
 * CIFAR-10 CNN's 1M activations).
 */
function _leakyRelu(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: tf.TensorInfo };
  const { alpha } = args.attrs as unknown as { alpha: number };
  const simd = simdKernelsFor(backend);
  if (simd === undefined || x.dtype !== "float32") {
    return _originalKernel("LeakyRelu")(args as never) as tf.TensorInfo;
  }
  const size = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput([...x.shape], "float32");
  // Addresses after the allocation: they stay valid when the heap grows.
  const [xAt, outAt] = [x, out].map((t) => _address(backend, t));
  // alpha as its float32 bits: the kernel thread's arguments are int32s.
  const alphaBits = new Int32Array(new Float32Array([alpha]).buffer)[0];
  // Weighted like the max-pool gradient: threaded from 256K values.
  _rangeCall(
    simd,
    "leaky_relu_range",
    [xAt, outAt, alphaBits],
    size,
    16 * size,
  );
  return out;
}

/**
 * LeakyRelu's gradient in one SIMD pass on wasm; tfjs's formula (greater,
 * multiply, where) everywhere else. Gradients are registered per kernel
 * name for all backends, so this one decides by the active backend.
 */
const _leakyReluGrad: tf.GradConfig = {
  kernelName: "LeakyRelu",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { alpha } = attrs as unknown as { alpha: number };
    const g = dy as tf.Tensor;
    const fused = tf.getBackend() === "wasm" && x.dtype === "float32" &&
      g.dtype === "float32" &&
      simdKernelsFor(tf.backend() as BackendWasm) !== undefined;
    return {
      x: () =>
        fused
          ? tf.engine().runKernel(_LEAKY_RELU_GRAD, { x, dy: g }, { alpha })
          : tf.where(tf.greater(x, 0), g, tf.mul(g, alpha)),
    };
  },
};

/** The wasm kernels behind the Relu and ClipByValue gradients. */
const _RELU_GRAD = "ProjectReluGrad";
const _CLIP_GRAD = "ProjectClipByValueGrad";

function _reluGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.relu_grad(
    _address(backend, x),
    _address(backend, dy),
    _address(backend, out),
    tf.util.sizeFromShape(x.shape),
  );
  return out;
}

function _clipGradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const { clipValueMin, clipValueMax } = args.attrs as unknown as {
    clipValueMin: number;
    clipValueMax: number;
  };
  const out = backend.makeOutput([...x.shape], "float32");
  simdKernelsFor(backend)!.clip_grad(
    _address(backend, x),
    _address(backend, dy),
    _address(backend, out),
    tf.util.sizeFromShape(x.shape),
    clipValueMin,
    clipValueMax,
  );
  return out;
}

/** True when a gradient of `x` and `dy` can run as one SIMD kernel. */
function _fusedGrad(x: tf.Tensor, dy: tf.Tensor): boolean {
  return tf.getBackend() === "wasm" && x.dtype === "float32" &&
    dy.dtype === "float32" &&
    tf.util.arraysEqual(x.shape, dy.shape) &&
    simdKernelsFor(tf.backend() as BackendWasm) !== undefined;
}

/**
 * Relu's gradient in one SIMD pass on wasm (to the same bits); tfjs's
 * formula, mul(dy, cast(step(x))), everywhere else.
 */
const _reluGrad: tf.GradConfig = {
  kernelName: "Relu",
  inputsToSave: ["x"],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    const g = dy as tf.Tensor;
    return {
      x: () =>
        _fusedGrad(x, g)
          ? tf.engine().runKernel(_RELU_GRAD, { x, dy: g })
          : tf.mul(g, tf.cast(tf.step(x), "float32")),
    };
  },
};

/**
 * ClipByValue's gradient (ReLU6 layers clip) in one SIMD pass on wasm;
 * tfjs's formula (where of logicalAnd of two comparisons) everywhere else.
 */
const _clipByValueGrad: tf.GradConfig = {
  kernelName: "ClipByValue",
  inputsToSave: ["x"],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { clipValueMin, clipValueMax } = attrs as unknown as {
      clipValueMin: number;
      clipValueMax: number;
    };
    const g = dy as tf.Tensor;
    return {
      x: () =>
        _fusedGrad(x, g)
          ? tf.engine().runKernel(_CLIP_GRAD, { x, dy: g }, {
            clipValueMin,
            clipValueMax,
          })
          : tf.where(
            tf.logicalAnd(
              tf.greaterEqual(x, clipValueMin),
              tf.lessEqual(x, clipValueMax),
            ),
            g,
            tf.zerosLike(g),
          ),
    };
  },
};

const _ADDED: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  Conv2DBackpropFilter: _conv2dBackpropFilter,
  DepthwiseConv2dNativeBackpropFilter: _depthwiseBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: _depthwiseBackpropInput,
};

const _REPLACED: Record<string, (args: KernelArgs) => tf.TensorInfo> = {
  Conv2D: (args) => _pointwiseConv("Conv2D", args),
  FusedConv2D: (args) => _pointwiseConv("FusedConv2D", args),
  Add: (args) => _columnBinary("Add", args),
  Sub: (args) => _columnBinary("Sub", args),
  Multiply: (args) => _columnBinary("Multiply", args),
  RealDiv: (args) => _columnBinary("RealDiv", args),
  Conv2DBackpropInput: _conv2dBackpropInput,
  BatchMatMul: _batchMatMul,
  _FusedMatMul: _fusedMatMul,
  MaxPoolGrad: _maxPoolGrad,
  LeakyRelu: _leakyRelu,
  GatherV2: _gatherV2,
  Slice: _slice,
  Tile: _tile,
  Identity: _identity,
  Sum: _sum,
};

/** The shipped wasm kernels that {@linkcode _REPLACED} wraps. */
const _originals = new Map<string, tf.KernelConfig>();

function _originalKernel(name: string): tf.KernelFunc {
  const kernel = _originals.get(name);
  if (kernel === undefined) throw new Error(`${name}: not registered yet`);
  return kernel.kernelFunc;
}

/**
 * Registers for `wasm` the training kernels it lacks (see
 * {@linkcode WASM_TRAINING_KERNELS}) and replaces slow ones by faster
 * versions: Conv2D and FusedConv2D (few input channels, 1x1 on new
 * weights, and every convolution where the kernel thread runs),
 * Conv2DBackpropInput, BatchMatMul with transposed operands or new
 * weights, _FusedMatMul on new weights, MaxPoolGrad, LeakyRelu, GatherV2
 * along the first axis, Slice without a copy of its input, Tile of whole
 * tensors, Identity without a copy, per-channel Add/Sub/Multiply/RealDiv,
 * and Sum over all leading axes. Idempotent; needs tfjs-backend-wasm to be
 * imported first.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerWasmTrainingKernels } from "./wasm_kernels.ts";
 * registerWasmTrainingKernels();
 * ```
 */
export function registerWasmTrainingKernels(): void {
  registerFusedKernels(); // fused_kernels.ts: Sigmoid/Tanh, unused input grads
  if (tf.getKernel(_LEAKY_RELU_GRAD, "wasm") === undefined) {
    tf.registerKernel({
      kernelName: _LEAKY_RELU_GRAD,
      backendName: "wasm",
      kernelFunc: _leakyReluGradKernel as unknown as tf.KernelFunc,
    });
    tf.registerGradient(_leakyReluGrad);
  }
  for (
    const [kernelName, kernelFunc, gradient] of [
      [_RELU_GRAD, _reluGradKernel, _reluGrad],
      [_CLIP_GRAD, _clipGradKernel, _clipByValueGrad],
    ] as const
  ) {
    if (tf.getKernel(kernelName, "wasm") !== undefined) continue;
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
    tf.registerGradient(gradient);
  }
  for (const [kernelName, kernelFunc] of Object.entries(_ADDED)) {
    if (tf.getKernel(kernelName, "wasm") !== undefined) continue;
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
  for (const [kernelName, kernelFunc] of Object.entries(_REPLACED)) {
    if (_originals.has(kernelName)) continue;
    const original = tf.getKernel(kernelName, "wasm");
    if (original === undefined) {
      throw new Error(
        `tfjs-backend-wasm has no ${kernelName} kernel: import ` +
          `"@tensorflow/tfjs-backend-wasm" before registering.`,
      );
    }
    _originals.set(kernelName, original);
    tf.unregisterKernel(kernelName, "wasm");
    tf.registerKernel({
      kernelName,
      backendName: "wasm",
      // The shipped setup binds the C++ entry point the original needs.
      setupFunc: original.setupFunc,
      disposeFunc: original.disposeFunc,
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    });
  }
}
