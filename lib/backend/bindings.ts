/**
 * Typed bindings of the project's C kernels (`kernels/*.c`, built into
 * `kernels/kernels.wasm` and `kernels/kernels_shared.wasm`): one entry per
 * export with its argument names and WebAssembly types, from which the
 * {@linkcode SimdKernels} type is derived. {@linkcode checkKernelExports}
 * compares a compiled module with the table when it loads, so a kernel
 * added, removed or changed in C without its binding is a clear error, not
 * a call with shifted arguments.
 *
 * @example
 * ```ts
 * import { strict as assert } from "node:assert";
 * import { KERNEL_SIGNATURES } from "./bindings.ts";
 * const args = KERNEL_SIGNATURES.sum_rows.args; // ["x: ptr", "out: ptr", ...]
 * assert.deepEqual(args.slice(0, 2), ["x: ptr", "out: ptr"]);
 * ```
 *
 * @module
 */

/** A kernel argument's WebAssembly type: a heap address, an int, a float. */
export type KernelArgType = "ptr" | "i32" | "f32";

/** One argument, written `"name: type"`. */
export type KernelArg = `${string}: ${KernelArgType}`;

/** The binding of one exported C kernel. */
export interface KernelSignature {
  /** The C file (under `kernels/`) that defines it. */
  readonly file: string;
  /** What it computes, and its arguments in words. */
  readonly doc: string;
  /** Its arguments in order; pointers are byte addresses in the heap. */
  readonly args: readonly KernelArg[];
  /**
   * True for a range kernel that the kernel thread can run: its last two
   * arguments are the range [from, to) of its output's rows or units that
   * it computes, every other argument an int32. Default false.
   */
  readonly threaded?: boolean;
}

// conv2d_direct_rows and conv2d_one_channel_rows take the same arguments, so
// the convolution picks either kernel with one argument list.
const _CONV_ROWS_ARGS: readonly KernelArg[] = [
  "xp: ptr",
  "wt: ptr",
  "out: ptr",
  "bias: ptr",
  "relu: i32",
  "n: i32",
  "hp: i32",
  "wp: i32",
  "ci: i32",
  "oh: i32",
  "ow: i32",
  "co: i32",
  "fh: i32",
  "fw: i32",
  "sh: i32",
  "sw: i32",
  "dh: i32",
  "dw: i32",
  "r0: i32",
  "r1: i32",
];

/**
 * Every export of the kernels' modules, with its signature. A new
 * `EXPORT(...)` in `kernels/*.c` needs its line here (the module's exports
 * are checked against this table when it loads).
 */
export const KERNEL_SIGNATURES = {
  conv2d_filter_grad_units: {
    threaded: true,
    file: "convolution.c",
    doc:
      "Filter gradient of a convolution for units [u0, u1) (unit = tap * ceil(ci / 4) + 4-channel block; all: the whole gradient): x, dy, dw, then n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl, u0, u1.",
    args: [
      "x: ptr",
      "dy: ptr",
      "dw: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "ci: i32",
      "oh: i32",
      "ow: i32",
      "co: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dwl: i32",
      "pt: i32",
      "pl: i32",
      "u0: i32",
      "u1: i32",
    ],
  },
  depthwise_filter_grad: {
    file: "convolution.c",
    doc:
      "Depthwise filter gradient (multiplier 1): x, dy, dw, then n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, pt, pl.",
    args: [
      "x: ptr",
      "dy: ptr",
      "dw: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dwl: i32",
      "pt: i32",
      "pl: i32",
    ],
  },
  depthwise_input_grad: {
    file: "convolution.c",
    doc:
      "Depthwise input gradient (multiplier 1): filter, dy, dx, then the same geometry.",
    args: [
      "filter: ptr",
      "dy: ptr",
      "dx: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dwl: i32",
      "pt: i32",
      "pl: i32",
    ],
  },
  conv2d_filter_grad_one_channel: {
    threaded: true,
    file: "convolution.c",
    doc:
      "Partial filter gradients of a one-channel, stride-1 convolution, one per chunk of output rows, for chunks [c0, c1): xp, dy, dyt (scratch: dy transposed per row), partial, then n, oh, ow, ow4, hp, wp, co, fh, fw, chunk rows, c0, c1.",
    args: [
      "xp: ptr",
      "dy: ptr",
      "dyt: ptr",
      "partial: ptr",
      "n: i32",
      "oh: i32",
      "ow: i32",
      "ow4: i32",
      "hp: i32",
      "wp: i32",
      "co: i32",
      "fh: i32",
      "fw: i32",
      "chunk_rows: i32",
      "c0: i32",
      "c1: i32",
    ],
  },
  pad_nhwc: {
    file: "convolution.c",
    doc:
      "Zero-padded copy: x, out, then n, h, w, c, top, bottom, left, right padding.",
    args: [
      "x: ptr",
      "out: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "pt: i32",
      "pb: i32",
      "pl: i32",
      "pr: i32",
    ],
  },
  conv2d_direct_rows: {
    threaded: true,
    file: "convolution.c",
    doc:
      "Convolution over a padded input for output rows (image * oh + y) [r0, r1): xp, filter, out, bias (0: none), relu, then n, hp, wp, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, r0, r1.",
    args: _CONV_ROWS_ARGS,
  },
  conv2d_one_channel_rows: {
    threaded: true,
    file: "convolution.c",
    doc:
      "conv2d_direct_rows for one input channel, stride 1, no dilation, ow >= 8: the same arguments.",
    args: _CONV_ROWS_ARGS,
  },
  conv2d_input_grad: {
    file: "convolution.c",
    doc:
      "Input gradient of a convolution: dy, filter, dx, wt and cols scratch, then n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl.",
    args: [
      "dy: ptr",
      "w: ptr",
      "dx: ptr",
      "wt: ptr",
      "cols: ptr",
      "n: i32",
      "h: i32",
      "wd: i32",
      "ci: i32",
      "oh: i32",
      "ow: i32",
      "co: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dw: i32",
      "pt: i32",
      "pl: i32",
    ],
  },
  conv2d_input_grad_images: {
    threaded: true,
    file: "convolution.c",
    doc:
      "The input gradient for images [b0, b1) only: conv2d_input_grad's arguments, then b0, b1.",
    args: [
      "dy: ptr",
      "w: ptr",
      "dx: ptr",
      "wt: ptr",
      "cols: ptr",
      "n: i32",
      "h: i32",
      "wd: i32",
      "ci: i32",
      "oh: i32",
      "ow: i32",
      "co: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dw: i32",
      "pt: i32",
      "pl: i32",
      "b0: i32",
      "b1: i32",
    ],
  },
  matmul_nt_cols: {
    threaded: true,
    file: "dense.c",
    doc:
      "Columns [n0, n1) of C = A · Bᵀ: a, b, c, then rows of A, rows of B, shared length k, n0, n1.",
    args: [
      "a: ptr",
      "b: ptr",
      "c: ptr",
      "m_rows: i32",
      "n_cols: i32",
      "k: i32",
      "n0: i32",
      "n1: i32",
    ],
  },
  matmul_nn_rows: {
    threaded: true,
    file: "dense.c",
    doc:
      "Rows [r0, r1) of C = A · B (+ bias per column), ReLU where relu: a, b, c, bias (0: none), relu, rows of A, columns of B, shared length k, r0, r1.",
    args: [
      "a: ptr",
      "b: ptr",
      "c: ptr",
      "bias: ptr",
      "relu: i32",
      "m_rows: i32",
      "n: i32",
      "k: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  leaky_relu_grad: {
    file: "elementwise.c",
    doc: "LeakyRelu's gradient: x, dy, dx, size, alpha.",
    args: ["x: ptr", "dy: ptr", "dx: ptr", "n: i32", "alpha: f32"],
  },
  leaky_relu_range: {
    threaded: true,
    file: "elementwise.c",
    doc:
      "LeakyRelu over elements [i0, i1): x, out, alpha's float32 bits (an int32), i0, i1.",
    args: ["x: ptr", "out: ptr", "alpha_bits: i32", "i0: i32", "i1: i32"],
  },
  sum_rows: {
    file: "elementwise.c",
    doc: "Column sums: x, out, rows, cols.",
    args: ["x: ptr", "out: ptr", "rows: i32", "cols: i32"],
  },
  column_op: {
    threaded: true,
    file: "elementwise.c",
    doc:
      "out = x op y with y one value per column, for rows [r0, r1): x, y, out, rows, cols, op (0 add, 1 sub, 2 mul, 3 div), swap (y op x), r0, r1.",
    args: [
      "x: ptr",
      "y: ptr",
      "out: ptr",
      "rows: i32",
      "cols: i32",
      "op: i32",
      "swap: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  clip_grad: {
    file: "elementwise.c",
    doc: "ClipByValue's gradient: x, dy, dx, size, min, max.",
    args: ["x: ptr", "dy: ptr", "dx: ptr", "n: i32", "lo: f32", "hi: f32"],
  },
  relu_grad: {
    file: "elementwise.c",
    doc: "Relu's gradient: x, dy, dx, size.",
    args: ["x: ptr", "dy: ptr", "dx: ptr", "n: i32"],
  },
  clip_by_value: {
    file: "elementwise.c",
    doc: "ClipByValue that keeps NaN: x, out, size, min, max.",
    args: ["x: ptr", "out: ptr", "n: i32", "lo: f32", "hi: f32"],
  },
  tanh_range: {
    threaded: true,
    file: "elementwise.c",
    doc:
      "Tanh of elements [i0, i1), within 1 ulp of the exact value: x, out, i0, i1.",
    args: ["x: ptr", "out: ptr", "i0: i32", "i1: i32"],
  },
  sigmoid_grad: {
    file: "elementwise.c",
    doc:
      "Sigmoid's gradient from its output, dy * (y * (1 - y)): y, dy, dx, size.",
    args: ["y: ptr", "dy: ptr", "dx: ptr", "n: i32"],
  },
  tanh_grad: {
    file: "elementwise.c",
    doc: "Tanh's gradient from its output, (1 - y * y) * dy: y, dy, dx, size.",
    args: ["y: ptr", "dy: ptr", "dx: ptr", "n: i32"],
  },
  sum_two_axes: {
    threaded: true,
    file: "elementwise.c",
    doc:
      "x viewed as [a, p, b, q, c] summed over p and q into [a, b, c] (q = 1 for one axis), for outer indices [r0, r1): x, out, a, p, b, q, c, r0, r1.",
    args: [
      "x: ptr",
      "out: ptr",
      "a: i32",
      "p: i32",
      "b: i32",
      "q: i32",
      "c: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  bn_moments: {
    file: "normalisation.c",
    doc:
      "Batch-norm moments per channel: x, mean, variance, invstd, rows, cols, eps.",
    args: [
      "x: ptr",
      "mean: ptr",
      "var: ptr",
      "invstd: ptr",
      "rows: i32",
      "cols: i32",
      "eps: f32",
    ],
  },
  bn_forward: {
    threaded: true,
    file: "normalisation.c",
    doc:
      "Batch-norm forward for rows [r0, r1) of x as [rows, cols]: x, mean, invstd, gamma, beta, out, rows, cols, r0, r1.",
    args: [
      "x: ptr",
      "mean: ptr",
      "invstd: ptr",
      "gamma: ptr",
      "beta: ptr",
      "out: ptr",
      "rows: i32",
      "cols: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  bn_backward: {
    file: "normalisation.c",
    doc:
      "Batch-norm gradients: x, dy, mean, invstd, gamma, dx, dgamma, dbeta, rows, cols.",
    args: [
      "x: ptr",
      "dy: ptr",
      "mean: ptr",
      "invstd: ptr",
      "gamma: ptr",
      "dx: ptr",
      "dgamma: ptr",
      "dbeta: ptr",
      "rows: i32",
      "cols: i32",
    ],
  },
  adam_update: {
    file: "optimizers.c",
    doc:
      "One Adam step: value, grad, m, v, then their three outputs, size, scalars.",
    args: [
      "value: ptr",
      "grad: ptr",
      "m: ptr",
      "v: ptr",
      "value_out: ptr",
      "m_out: ptr",
      "v_out: ptr",
      "n: i32",
      "beta1: f32",
      "one_minus_beta1: f32",
      "beta2: f32",
      "one_minus_beta2: f32",
      "c1: f32",
      "c2: f32",
      "eps: f32",
      "neg_lr: f32",
    ],
  },
  adamax_update: {
    file: "optimizers.c",
    doc:
      "One Adamax step: value, grad, m, u, then their three outputs, size, scalars.",
    args: [
      "value: ptr",
      "grad: ptr",
      "m: ptr",
      "u: ptr",
      "value_out: ptr",
      "m_out: ptr",
      "u_out: ptr",
      "n: i32",
      "beta1: f32",
      "one_minus_beta1: f32",
      "beta2: f32",
      "eps: f32",
      "rate: f32",
    ],
  },
  max_pool_grad: {
    file: "pooling.c",
    doc:
      "Max-pool input gradient: x, dy, dx, then n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, pt, pl.",
    args: [
      "x: ptr",
      "dy: ptr",
      "dx: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dwl: i32",
      "pt: i32",
      "pl: i32",
    ],
  },
  max_pool_grad_rows: {
    threaded: true,
    file: "pooling.c",
    doc:
      "The same for output rows (image * oh + r) [r0, r1), windows not overlapping: its arguments, then r0, r1.",
    args: [
      "x: ptr",
      "dy: ptr",
      "dx: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "fh: i32",
      "fw: i32",
      "sh: i32",
      "sw: i32",
      "dh: i32",
      "dwl: i32",
      "pt: i32",
      "pl: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  broadcast_strided: {
    file: "data_movement.c",
    doc:
      "A broadcast into a contiguous [d0, ..., d5] from src read with strides s0 .. s5 (0 repeats a value; s5 is 0 or 1): src, dst, d0 .. d5, s0 .. s5.",
    args: [
      "src: ptr",
      "dst: ptr",
      "d0: i32",
      "d1: i32",
      "d2: i32",
      "d3: i32",
      "d4: i32",
      "d5: i32",
      "s0: i32",
      "s1: i32",
      "s2: i32",
      "s3: i32",
      "s4: i32",
      "s5: i32",
    ],
  },
  max_pool_2x2_rows: {
    threaded: true,
    file: "pooling.c",
    doc:
      "A max pool over 2x2 windows at stride 2 from the corner (no top or left padding, 2 oh <= h, 2 ow <= w), c >= 4, NaN propagating, for output rows (image * oh + r) [r0, r1): x, out, then n, h, w, c, oh, ow, r0, r1.",
    args: [
      "x: ptr",
      "out: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  max_pool_grad_2x2_rows: {
    threaded: true,
    file: "pooling.c",
    doc:
      "The max-pool gradient for 2x2 windows at stride 2 tiling the input (no padding, h = 2 oh, w = 2 ow), c >= 4, for output rows (image * oh + r) [r0, r1): x, dy, dx, then n, h, w, c, oh, ow, r0, r1. Every dx value is written (no zeroing needed).",
    args: [
      "x: ptr",
      "dy: ptr",
      "dx: ptr",
      "n: i32",
      "h: i32",
      "w: i32",
      "c: i32",
      "oh: i32",
      "ow: i32",
      "r0: i32",
      "r1: i32",
    ],
  },
  multiply_add_peak: {
    threaded: true,
    file: "peak.c",
    doc:
      "The multiply-add ceiling for the bench: conv2d_direct_rows' register block run `steps` times over x (64 floats), 32 multiply-adds a step, for units [u0, u1), each writing its sum to out[unit] (8 * steps when every x is 0.5).",
    args: ["x: ptr", "out: ptr", "steps: i32", "u0: i32", "u1: i32"],
  },
} as const satisfies Record<string, KernelSignature>;

/** The name of an exported C kernel. */
export type KernelExport = keyof typeof KERNEL_SIGNATURES;

/** The name of a kernel the kernel thread can run (`threaded: true`). */
export type ThreadedKernel = {
  [K in KernelExport]: (typeof KERNEL_SIGNATURES)[K] extends { threaded: true }
    ? K
    : never;
}[KernelExport];

/**
 * The kernels the kernel thread can run, in the order of
 * {@linkcode KERNEL_SIGNATURES} (the worker names them by index).
 */
export const THREADED_KERNELS: readonly ThreadedKernel[] = (Object.keys(
  KERNEL_SIGNATURES,
) as KernelExport[]).filter((name): name is ThreadedKernel =>
  (KERNEL_SIGNATURES[name] as KernelSignature).threaded === true
);

/** A function taking one number per entry of the argument list `A`. */
export type KernelBinding<A extends readonly KernelArg[]> = (
  ...args: { [I in keyof A]: number }
) => void;

/**
 * The kernels' entry points, typed from {@linkcode KERNEL_SIGNATURES}:
 * pointers are byte addresses in the backend's heap, the geometry follows
 * them as plain integers.
 */
export type SimdKernels = {
  readonly [K in KernelExport]: KernelBinding<
    (typeof KERNEL_SIGNATURES)[K]["args"]
  >;
};

const _TYPE_CODES: Record<number, "i32" | "f32" | "i64" | "f64" | "v128"> = {
  0x7f: "i32",
  0x7e: "i64",
  0x7d: "f32",
  0x7c: "f64",
  0x7b: "v128",
};

/**
 * The exported functions of a WebAssembly binary with their parameter
 * types, read from its type, import, function and export sections.
 *
 * @example
 * ```ts
 * import { exportedFunctionTypes } from "./bindings.ts";
 * const bytes = Deno.readFileSync("lib/backend/kernels/kernels.wasm");
 * console.log(exportedFunctionTypes(bytes).get("sum_rows"));
 * ```
 */
export function exportedFunctionTypes(
  bytes: Uint8Array,
): Map<string, { params: string[]; results: string[] }> {
  let at = 8; // magic and version
  const leb = (): number => {
    let value = 0;
    for (let shift = 0;; shift += 7) {
      if (at >= bytes.length) throw new Error("truncated WebAssembly module");
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return value;
    }
  };
  const name = (): string => {
    const length = leb();
    at += length;
    return new TextDecoder().decode(bytes.subarray(at - length, at));
  };
  const valtypes = (): string[] =>
    Array.from({ length: leb() }, () => _TYPE_CODES[bytes[at++]] ?? "?");
  const types: { params: string[]; results: string[] }[] = [];
  const functions: number[] = [];
  const exports = new Map<string, { params: string[]; results: string[] }>();
  let importedFunctions = 0;
  while (at < bytes.length) {
    const id = bytes[at++];
    const size = leb();
    const end = at + size;
    if (id === 1) {
      for (let i = leb(); i > 0; i--) {
        at++; // 0x60: a function type
        types.push({ params: valtypes(), results: valtypes() });
      }
    } else if (id === 2) {
      for (let i = leb(); i > 0; i--) {
        name();
        name();
        const kind = bytes[at++];
        if (kind === 0) {
          leb();
          importedFunctions++;
        } else if (kind === 1) {
          at++;
          const flags = leb();
          leb();
          if (flags & 1) leb();
        } else if (kind === 2) {
          const flags = leb();
          leb();
          if (flags & 1) leb();
        } else if (kind === 3) {
          at += 2;
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
      }
    } else if (id === 3) {
      for (let i = leb(); i > 0; i--) functions.push(leb());
    } else if (id === 7) {
      for (let i = leb(); i > 0; i--) {
        const exported = name();
        const kind = bytes[at++];
        const index = leb();
        if (kind === 0 && index >= importedFunctions) {
          exports.set(exported, types[functions[index - importedFunctions]]);
        }
      }
    }
    at = end;
  }
  return exports;
}

/**
 * Checks that a kernels' module (its bytes) exports exactly the functions
 * of {@linkcode KERNEL_SIGNATURES}, each with the listed argument types
 * (a pointer is an i32) and no result; throws an error that names every
 * missing, extra or changed export and what to do.
 *
 * @example
 * ```ts
 * import { checkKernelExports } from "./bindings.ts";
 * checkKernelExports(Deno.readFileSync("lib/backend/kernels/kernels.wasm"));
 * ```
 */
export function checkKernelExports(bytes: Uint8Array, what = "kernels.wasm") {
  const found = exportedFunctionTypes(bytes);
  const problems: string[] = [];
  for (const [name, signature] of Object.entries(KERNEL_SIGNATURES)) {
    const actual = found.get(name);
    if (actual === undefined) {
      problems.push(`${name} is missing`);
      continue;
    }
    const wanted = signature.args.map((a) =>
      a.endsWith(": f32") ? "f32" : "i32"
    );
    if (
      actual.results.length !== 0 || actual.params.join() !== wanted.join()
    ) {
      problems.push(
        `${name} takes (${actual.params.join(", ")}) -> ` +
          `(${actual.results.join(", ")}), the binding says ` +
          `(${wanted.join(", ")}) -> ()`,
      );
    }
  }
  for (const name of found.keys()) {
    if (!(name in KERNEL_SIGNATURES)) {
      problems.push(`${name} is exported but has no binding`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `${what} does not match lib/backend/bindings.ts: ${
        problems.join("; ")
      }. Rebuild it (deno task build-kernels) or update KERNEL_SIGNATURES.`,
    );
  }
}

/**
 * The typed kernels of an instance whose module passed
 * {@linkcode checkKernelExports}.
 *
 * @example
 * ```ts
 * import { bindKernels } from "./bindings.ts";
 * const bytes = Deno.readFileSync(new URL("./kernels/kernels.wasm", import.meta.url));
 * // At least the pages the module declares for its imported memory.
 * const memory = new WebAssembly.Memory({ initial: 16 });
 * const instance = new WebAssembly.Instance(
 *   new WebAssembly.Module(bytes),
 *   { env: { memory } },
 * );
 * bindKernels(instance).sum_rows(0, 0, 0, 0);
 * ```
 */
export function bindKernels(instance: WebAssembly.Instance): SimdKernels {
  const kernels: Partial<Record<KernelExport, unknown>> = {};
  for (const name of Object.keys(KERNEL_SIGNATURES) as KernelExport[]) {
    const fn = instance.exports[name];
    if (typeof fn !== "function") {
      throw new Error(`the kernels' instance has no function ${name}`);
    }
    kernels[name] = fn;
  }
  return kernels as SimdKernels;
}
