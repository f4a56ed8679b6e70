// Element-wise and per-column kernels: LeakyRelu and its gradient, column
// sums, per-column binary ops, the Relu and ClipByValue gradients. See
// kernels.h for the rules every kernel follows.

#include "kernels.h"

// The gradient of LeakyRelu: dy where x > 0, else alpha dy (tfjs computes
// it as where(greater(x, 0), dy, mul(dy, alpha)): three kernels, two
// temporaries).
EXPORT("leaky_relu_grad")
void leaky_relu_grad(const f32 *x, const f32 *dy, f32 *dx, int n, f32 alpha) {
  v128_t va = wasm_f32x4_splat(alpha), zero4 = wasm_f32x4_splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t d = wasm_v128_load(dy + i);
    v128_t pos = wasm_f32x4_gt(wasm_v128_load(x + i), zero4);
    wasm_v128_store(dx + i,
                    wasm_v128_bitselect(d, wasm_f32x4_mul(d, va), pos));
  }
  for (; i < n; i++) dx[i] = x[i] > 0.f ? dy[i] : dy[i] * alpha;
}

// LeakyRelu, elements [i0, i1) of x: alpha x where x < 0, else x (NaN
// stays NaN), as tfjs's cpu kernel; the shipped wasm kernel goes one
// element at a time. alpha comes as its float32 bits: the kernel thread's
// arguments are int32 words.
EXPORT("leaky_relu_range")
void leaky_relu_range(const f32 *x, f32 *out, int alpha_bits, int i0,
                      int i1) {
  f32 alpha = __builtin_bit_cast(f32, alpha_bits);
  v128_t va = wasm_f32x4_splat(alpha), zero4 = wasm_f32x4_splat(0.f);
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    v128_t v = wasm_v128_load(x + i);
    v128_t neg = wasm_f32x4_lt(v, zero4);
    wasm_v128_store(out + i,
                    wasm_v128_bitselect(wasm_f32x4_mul(v, va), v, neg));
  }
  for (; i < i1; i++) out[i] = x[i] < 0.f ? x[i] * alpha : x[i];
}

// Column sums of a [rows, cols] matrix: a bias gradient (dy summed over
// batch and pixels). Eight columns at a time, so the sums stay in registers
// while the rows stream by.
EXPORT("sum_rows")
void sum_rows(const f32 *x, f32 *out, int rows, int cols) {
  int c = 0;
  for (; c + 8 <= cols; c += 8) {
    v128_t a0 = wasm_f32x4_splat(0.f), a1 = a0;
    const f32 *p = x + c;
    for (int r = 0; r < rows; r++, p += cols) {
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
      a1 = wasm_f32x4_add(a1, wasm_v128_load(p + 4));
    }
    wasm_v128_store(out + c, a0);
    wasm_v128_store(out + c + 4, a1);
  }
  for (; c + 4 <= cols; c += 4) {
    v128_t a0 = wasm_f32x4_splat(0.f);
    const f32 *p = x + c;
    for (int r = 0; r < rows; r++, p += cols)
      a0 = wasm_f32x4_add(a0, wasm_v128_load(p));
    wasm_v128_store(out + c, a0);
  }
  for (; c < cols; c++) {
    f32 s = 0.f;
    for (int r = 0; r < rows; r++) s += x[r * cols + c];
    out[c] = s;
  }
}

// out = x op y, where y has one value per column of x ([rows, cols]): a
// bias added, a batch-norm mean subtracted or a scale multiplied, per
// channel. op 0: add, 1: subtract, 2: multiply, 3: divide; with `swap` the
// per-column value is the left operand (y op x).
EXPORT("column_op")
void column_op(const f32 *x, const f32 *y, f32 *out, int rows, int cols,
               int op, int swap) {
  int c4 = cols & ~3;
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols;
    f32 *o = out + r * cols;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t u = wasm_v128_load(xr + c), v = wasm_v128_load(y + c);
      if (swap) {
        v128_t t = u;
        u = v;
        v = t;
      }
      v128_t w = op == 0   ? wasm_f32x4_add(u, v)
                 : op == 1 ? wasm_f32x4_sub(u, v)
                 : op == 2 ? wasm_f32x4_mul(u, v)
                           : wasm_f32x4_div(u, v);
      wasm_v128_store(o + c, w);
    }
    for (; c < cols; c++) {
      f32 u = swap ? y[c] : xr[c], v = swap ? xr[c] : y[c];
      o[c] = op == 0 ? u + v : op == 1 ? u - v : op == 2 ? u * v : u / v;
    }
  }
}

// The gradient of ClipByValue: dy where lo <= x <= hi, else 0 (tfjs
// computes where(logicalAnd(greaterEqual(x, lo), lessEqual(x, hi)), dy,
// zerosLike(dy)): five kernels; ReLU6 layers clip).
EXPORT("clip_grad")
void clip_grad(const f32 *x, const f32 *dy, f32 *dx, int n, f32 lo, f32 hi) {
  v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
  v128_t zero4 = wasm_f32x4_splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t in = wasm_v128_and(wasm_f32x4_ge(xv, vlo), wasm_f32x4_le(xv, vhi));
    wasm_v128_store(dx + i, wasm_v128_bitselect(wasm_v128_load(dy + i), zero4,
                                                in));
  }
  for (; i < n; i++) dx[i] = x[i] >= lo && x[i] <= hi ? dy[i] : 0.f;
}

// The gradient of Relu, dy * step(x) with step(x) = 1 where x > 0, NaN
// where x is NaN, else 0, as tfjs computes it (mul(dy, cast(step(x))):
// three kernels), to the same bits (-0 where dy < 0 and x <= 0).
EXPORT("relu_grad")
void relu_grad(const f32 *x, const f32 *dy, f32 *dx, int n) {
  v128_t one4 = wasm_f32x4_splat(1.f), zero4 = wasm_f32x4_splat(0.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t step = wasm_v128_bitselect(one4, zero4, wasm_f32x4_gt(xv, zero4));
    step = wasm_v128_bitselect(step, xv, wasm_f32x4_eq(xv, xv));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), step));
  }
  for (; i < n; i++) {
    f32 s = x[i] != x[i] ? x[i] : x[i] > 0.f ? 1.f : 0.f;
    dx[i] = dy[i] * s;
  }
}

// ClipByValue, elements [i0, i1) of x: hi where x > hi, else lo where
// x < lo, else x, as tfjs-backend-cpu computes it; NaN stays NaN (both
// comparisons are false), where tfjs-backend-wasm's kernel gives lo, so a
// diverged model's clipped probabilities (and its cross-entropy) stay NaN.
EXPORT("clip_by_value")
void clip_by_value(const f32 *x, f32 *out, int n, f32 lo, f32 hi) {
  v128_t vlo = wasm_f32x4_splat(lo), vhi = wasm_f32x4_splat(hi);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t xv = wasm_v128_load(x + i);
    v128_t r = wasm_v128_bitselect(vlo, xv, wasm_f32x4_lt(xv, vlo));
    r = wasm_v128_bitselect(vhi, r, wasm_f32x4_gt(xv, vhi));
    wasm_v128_store(out + i, r);
  }
  for (; i < n; i++) out[i] = x[i] > hi ? hi : x[i] < lo ? lo : x[i];
}
