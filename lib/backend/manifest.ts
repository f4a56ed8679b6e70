/**
 * The backend manifest: one typed entry for every tfjs kernel the project
 * adds or replaces, every project kernel, every gradient override and every
 * patch of a tfjs internal, with the C entries it calls, what runs when they
 * cannot, whether it shares work with the kernel thread and the tfjs
 * version it was checked against. It is data only: `register.ts` registers
 * from it, the differential tests iterate it, `describeBackend()` prints
 * it and `lib/backend/README.md` is generated from it
 * (`deno task backend-readme`).
 *
 * @example
 * ```ts
 * import { BACKEND_MANIFEST } from "./manifest.ts";
 * for (const entry of BACKEND_MANIFEST) console.log(entry.kind, entry.name);
 * ```
 *
 * @module
 */
import type { KernelExport } from "./bindings.ts";
import { TFJS_CHECKED_VERSION } from "./tfjs_internals.ts";

/** What an entry is. */
export type ManifestKind =
  /** A tfjs kernel the backend lacks, added. */
  | "added"
  /** A tfjs kernel the backend ships, replaced (the original kept). */
  | "replaced"
  /** A kernel of the project's own, run by a gradient or a patch. */
  | "project"
  /** A gradient registered in place of tfjs's (for every backend). */
  | "gradient"
  /** A tfjs method or internal the project patches. */
  | "patch";

/** The kernel family, as the C files and `wasm/*.ts` are split. */
export type ManifestFamily =
  | "convolution"
  | "dense"
  | "pooling"
  | "normalisation"
  | "elementwise"
  | "optimizers"
  | "data movement"
  | "memory";

/** One entry of {@linkcode BACKEND_MANIFEST}. */
export interface ManifestEntry {
  /** The tfjs kernel name (or project kernel, or patched target). */
  readonly name: string;
  /** What it is. */
  readonly kind: ManifestKind;
  /** The backend it is registered for ("all" for gradients and patches). */
  readonly backend: "wasm" | "cpu" | "all";
  /** Its family. */
  readonly family: ManifestFamily;
  /** What it does better than tfjs, in one sentence. */
  readonly summary: string;
  /** The C kernels (`bindings.ts`) it calls; none for JavaScript only. */
  readonly c: readonly KernelExport[];
  /** What runs where the C kernels cannot (other shapes, kernels off). */
  readonly fallback: string;
  /** Whether it shares work with the kernel thread, where one runs. */
  readonly threads: boolean;
  /** The tfjs version whose kernel or internals it was checked against. */
  readonly tfjs: string;
  /** The test file that checks it (against tfjs-backend-cpu or tfjs). */
  readonly test: string;
}

const _V = TFJS_CHECKED_VERSION;
const _KERNELS = "tests/backend_kernels_test.ts";
const _SHIPPED = "the shipped kernel (XNNPACK where it has one)";

/**
 * Every kernel, gradient and patch of `lib/backend`, grouped by family.
 * A kernel added to `register.ts`'s lists without an entry here (or an
 * entry without its kernel) is an error when the kernels are registered.
 */
export const BACKEND_MANIFEST: readonly ManifestEntry[] = [
  {
    name: "Conv2D",
    kind: "replaced",
    backend: "wasm",
    family: "convolution",
    summary:
      "Few input channels (<= 3), 1x1 on new weights, and every convolution " +
      "where the kernel thread runs (1x1 ones as a product per pixel), in C " +
      "(bias and ReLU fused).",
    c: [
      "pad_nhwc",
      "conv2d_direct_rows",
      "conv2d_one_channel_rows",
      "matmul_nn_rows",
    ],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "FusedConv2D",
    kind: "replaced",
    backend: "wasm",
    family: "convolution",
    summary:
      "As Conv2D, for convolutions with a bias and a linear or ReLU activation.",
    c: [
      "pad_nhwc",
      "conv2d_direct_rows",
      "conv2d_one_channel_rows",
      "matmul_nn_rows",
    ],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Conv2DBackpropFilter",
    kind: "added",
    backend: "wasm",
    family: "convolution",
    summary:
      "The filter gradient, missing from tfjs-backend-wasm: a direct sum in " +
      "C (a one-channel variant for grey images).",
    c: [
      "conv2d_filter_grad_units",
      "conv2d_filter_grad_one_channel",
      "pad_nhwc",
      "sum_rows",
    ],
    fallback:
      "patches(x)ᵀ · dy in XNNPACK's BatchMatMul, the patches written by JavaScript loops",
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Conv2DBackpropInput",
    kind: "replaced",
    backend: "wasm",
    family: "convolution",
    summary:
      "The input gradient: dy · Wᵀ for 1x1, columns and col2im in C for few " +
      "input channels or an input with at least twice the output's pixels " +
      "('valid' on small maps), else a convolution with the rotated filter.",
    c: [
      "matmul_nt_cols",
      "conv2d_input_grad",
      "conv2d_input_grad_images",
      "conv2d_direct_rows",
    ],
    fallback:
      "XNNPACK's convolution of the dilated dy (the shipped loops for wide padding)",
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "DepthwiseConv2dNativeBackpropFilter",
    kind: "added",
    backend: "wasm",
    family: "convolution",
    summary: "The depthwise filter gradient, missing from tfjs-backend-wasm.",
    c: ["depthwise_filter_grad"],
    fallback: "a JavaScript loop on the heap (and for channel multipliers > 1)",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "DepthwiseConv2dNativeBackpropInput",
    kind: "added",
    backend: "wasm",
    family: "convolution",
    summary: "The depthwise input gradient, missing from tfjs-backend-wasm.",
    c: ["depthwise_input_grad"],
    fallback: "a JavaScript loop on the heap (and for channel multipliers > 1)",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Engine.addTapeNode",
    kind: "patch",
    backend: "all",
    family: "convolution",
    summary:
      "A fused convolution's input gradient that the tape throws away (a " +
      "model's first layer: tfjs's customGrad computes it eagerly) returns " +
      "zeros uncomputed, on every backend; used gradients keep their bits.",
    c: [],
    fallback:
      "the gradient computed as tfjs does (whenever the tape needs the input's)",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_unused_grads_test.ts",
  },
  {
    name: "BatchMatMul",
    kind: "replaced",
    backend: "wasm",
    family: "dense",
    summary:
      "Products with one transposed operand or on new weights in C; other " +
      "transposes done first (the shipped transposed product is slow).",
    c: ["matmul_nn_rows", "matmul_nt_cols", "conv2d_filter_grad_units"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "_FusedMatMul",
    kind: "replaced",
    backend: "wasm",
    family: "dense",
    summary:
      "A dense layer's forward pass on new weights in C (no XNNPACK packing), bias and ReLU fused.",
    c: ["matmul_nn_rows"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "MaxPool",
    kind: "replaced",
    backend: "wasm",
    family: "pooling",
    summary:
      "2x2 windows at stride 2 from the corner (LeNet's and the CIFAR CNN's pools) in one vector pass, on two threads for large inputs; a NaN in a window gives NaN (the shipped kernel gave -Infinity).",
    c: ["max_pool_2x2_rows"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "MaxPoolGrad",
    kind: "replaced",
    backend: "wasm",
    family: "pooling",
    summary:
      "The max-pool gradient in C, by rows for disjoint windows; 2x2 windows at stride 2 that tile the input in one vector pass with no scatter.",
    c: ["max_pool_grad_2x2_rows", "max_pool_grad_rows", "max_pool_grad"],
    fallback: "a JavaScript loop on the heap",
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "FusedBatchNorm",
    kind: "replaced",
    backend: "wasm",
    family: "normalisation",
    summary:
      "Inference's batch norm over per-channel statistics as (x - mean) invstd gamma + beta in one SIMD pass, invstd once per channel, on two threads for large inputs (the shipped kernel takes a square root and a division per value).",
    c: ["bn_forward"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectBatchNormMoments",
    kind: "project",
    backend: "wasm",
    family: "normalisation",
    summary:
      "The batch mean, variance and 1/sqrt(var + eps) per channel, for the fused batch norm.",
    c: ["bn_moments"],
    fallback: "none: only called where the C kernels run",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_batch_norm_test.ts",
  },
  {
    name: "ProjectBatchNormForward",
    kind: "project",
    backend: "wasm",
    family: "normalisation",
    summary:
      "The normalisation (x - mean) invstd gamma + beta, for the fused batch norm.",
    c: ["bn_forward"],
    fallback: "none: only called where the C kernels run",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_batch_norm_test.ts",
  },
  {
    name: "ProjectBatchNormGrad",
    kind: "project",
    backend: "wasm",
    family: "normalisation",
    summary:
      "The three batch-norm gradients in one pass, for the fused batch norm.",
    c: ["bn_backward"],
    fallback: "none: only called where the C kernels run",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_batch_norm_test.ts",
  },
  {
    name: "BatchNormalization.prototype.call",
    kind: "patch",
    backend: "all",
    family: "normalisation",
    summary:
      "tfjs-layers' BatchNormalization trains with the three batch-norm " +
      "kernels above on wasm (about half of MobileNet's kernel calls).",
    c: [],
    fallback: "the original call (other backends, inference, other axes)",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_batch_norm_test.ts",
  },
  {
    name: "Add",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "A tensor plus a per-channel vector or a single value in one C pass, on two threads for large tensors.",
    c: ["column_op"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Sub",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "A tensor minus a per-channel vector or a single value (or the reverse) in one C pass, on two threads for large tensors.",
    c: ["column_op"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Multiply",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "A tensor times a per-channel vector or a single value in one C pass, on two threads for large tensors.",
    c: ["column_op"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "RealDiv",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "A tensor divided by a per-channel vector or a single value (or the reverse) in one C pass, on two threads for large tensors.",
    c: ["column_op"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "LeakyRelu",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "LeakyRelu in one SIMD pass (the shipped kernel goes one element at a time).",
    c: ["leaky_relu_range"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ClipByValue",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "Keeps NaN as NaN, as tfjs-backend-cpu and PyTorch do (the shipped " +
      "kernel gives the lower bound, so a diverged model's loss stays finite).",
    c: ["clip_by_value"],
    fallback:
      "a JavaScript loop on the heap (NaN kept); other dtypes: the shipped kernel",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Sum",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary:
      "Sums over every axis but the last (bias gradients) as SIMD column " +
      "sums, and over one or two inner axes in ascending order " +
      "(lenet5-1998's 2x2 windows) in one pass, on two threads for large " +
      "tensors, to the shipped kernel's bits.",
    c: ["sum_rows", "sum_two_axes"],
    fallback: _SHIPPED,
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Tanh",
    kind: "replaced",
    backend: "wasm",
    family: "elementwise",
    summary: "Tanh in one SIMD pass within 1 ulp of the exact value, on two " +
      "threads from 64K values (the shipped kernel calls libm's tanh per " +
      "element).",
    c: ["tanh_range"],
    fallback: "the shipped kernel (other dtypes)",
    threads: true,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectLeakyReluGrad",
    kind: "project",
    backend: "wasm",
    family: "elementwise",
    summary: "LeakyRelu's gradient in one SIMD pass.",
    c: ["leaky_relu_grad"],
    fallback:
      "none: the LeakyRelu gradient only calls it where the C kernels run",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectReluGrad",
    kind: "project",
    backend: "wasm",
    family: "elementwise",
    summary: "Relu's gradient in one SIMD pass, to tfjs's bits.",
    c: ["relu_grad"],
    fallback: "none: the Relu gradient only calls it where the C kernels run",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectClipByValueGrad",
    kind: "project",
    backend: "wasm",
    family: "elementwise",
    summary: "ClipByValue's gradient in one SIMD pass.",
    c: ["clip_grad"],
    fallback:
      "none: the ClipByValue gradient only calls it where the C kernels run",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectSigmoidGrad",
    kind: "project",
    backend: "wasm",
    family: "elementwise",
    summary:
      "Sigmoid's gradient from its output in one SIMD pass, to tfjs's bits.",
    c: ["sigmoid_grad"],
    fallback:
      "none: the Sigmoid gradient only calls it where the C kernels run",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ProjectTanhGrad",
    kind: "project",
    backend: "wasm",
    family: "elementwise",
    summary:
      "Tanh's gradient from its output in one SIMD pass, to tfjs's bits.",
    c: ["tanh_grad"],
    fallback: "none: the Tanh gradient only calls it where the C kernels run",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "LeakyRelu",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary: "ProjectLeakyReluGrad on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: where(greater(x, 0), dy, mul(dy, alpha))",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Relu",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary: "ProjectReluGrad on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: mul(dy, cast(step(x)))",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Sum",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary:
      "dy spread over the summed axes as a broadcast (Tile) on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: mul(reshape(dy), ones(x.shape))",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "ClipByValue",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary: "ProjectClipByValueGrad on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: where(logicalAnd(x >= min, x <= max), dy, 0)",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Sigmoid",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary: "ProjectSigmoidGrad on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: mul(dy, mul(y, sub(1, y)))",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Tanh",
    kind: "gradient",
    backend: "all",
    family: "elementwise",
    summary: "ProjectTanhGrad on wasm, tfjs's formula elsewhere.",
    c: [],
    fallback: "tfjs's formula: mul(sub(1, square(y)), dy)",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "GatherV2",
    kind: "replaced",
    backend: "wasm",
    family: "data movement",
    summary:
      "Along the first axis (model.fit's batches) as one heap copy per index.",
    c: [],
    fallback: _SHIPPED,
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Slice",
    kind: "replaced",
    backend: "wasm",
    family: "data movement",
    summary:
      "Read straight from the heap (the shipped kernel copies the whole input out first).",
    c: [],
    fallback: "the shipped kernel for strings",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Tile",
    kind: "replaced",
    backend: "wasm",
    family: "data movement",
    summary:
      "Repeats of the whole tensor as doubling block copies; broadcasts (repeated axes of size 1) in C.",
    c: ["broadcast_strided"],
    fallback: _SHIPPED,
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Identity",
    kind: "replaced",
    backend: "wasm",
    family: "data movement",
    summary: "A new reference to the same heap buffer instead of a copy.",
    c: [],
    fallback: "the shipped kernel for strings",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "Conv2DBackpropFilter",
    kind: "replaced",
    backend: "cpu",
    family: "convolution",
    summary:
      "The cpu backend's filter gradient with contiguous output channels " +
      "innermost (the shipped one walks the batch there).",
    c: [],
    fallback: "the shipped kernel for NCHW data",
    threads: false,
    tfjs: _V,
    test: _KERNELS,
  },
  {
    name: "AdamOptimizer.prototype.applyGradients",
    kind: "patch",
    backend: "all",
    family: "optimizers",
    summary:
      "One C call per variable and step on wasm, reading Adam's private " +
      "fields (accBeta1, accBeta2, accumulatedFirstMoment, ...).",
    c: ["adam_update"],
    fallback: "the original method (other backends, non-float32 variables)",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_optimizers_test.ts",
  },
  {
    name: "AdamaxOptimizer.prototype.applyGradients",
    kind: "patch",
    backend: "all",
    family: "optimizers",
    summary:
      "One C call per variable and step on wasm, reading Adamax's private " +
      "fields (iteration, accumulatedWeightedInfNorm, ...).",
    c: ["adamax_update"],
    fallback: "the original method (other backends, non-float32 variables)",
    threads: false,
    tfjs: _V,
    test: "tests/backend_fused_optimizers_test.ts",
  },
  {
    name: "WebAssembly.instantiate (the memory flag byte)",
    kind: "patch",
    backend: "wasm",
    family: "memory",
    summary:
      "While the wasm backend starts, flips its module's memory flag byte " +
      "to shared, so the kernel thread computes in the same heap " +
      "(backend.wasm.asm.memory, _malloc).",
    c: [],
    fallback:
      "one thread (CNN_KERNEL_THREADS=1); a module without the byte is an error",
    threads: true,
    tfjs: _V,
    test: "tests/backend_shared_heap_test.ts",
  },
];
