// Element-wise and per-column kernels: LeakyRelu and its gradient, column
// sums, per-column binary ops, the Relu and ClipByValue gradients, Tanh,
// the Sigmoid and Tanh gradients, and sums over one or two inner axes. See
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

INLINE v128_t column_apply(v128_t u, v128_t v, int op, int swap) {
  if (swap) {
    v128_t t = u;
    u = v;
    v = t;
  }
  return op == 0   ? wasm_f32x4_add(u, v)
         : op == 1 ? wasm_f32x4_sub(u, v)
         : op == 2 ? wasm_f32x4_mul(u, v)
                   : wasm_f32x4_div(u, v);
}

INLINE f32 column_apply_scalar(f32 u, f32 v, int op, int swap) {
  if (swap) {
    f32 t = u;
    u = v;
    v = t;
  }
  return op == 0 ? u + v : op == 1 ? u - v : op == 2 ? u * v : u / v;
}

// Lanes 4v .. 4v + 3 of y repeated end to end (y has `cols` values).
INLINE v128_t column_period_vector(const f32 *y, int cols, int v) {
  int i = 4 * v;
  return wasm_f32x4_make(y[i % cols], y[(i + 1) % cols], y[(i + 2) % cols],
                         y[(i + 3) % cols]);
}

// column_op over the n = rows * cols values of x taken as one flat array,
// for a column count that is not a multiple of 4 (LeNet's 6 channels):
// y repeats every lcm(cols, 4) = 4 NP values, so NP vectors of y repeated
// stay in registers and every value goes through a full vector, where the
// row-by-row loop did one vector and cols % 4 scalars per row.
INLINE void column_op_periodic(const f32 *x, const f32 *y, f32 *out, int n,
                               int cols, int op, int swap, int NP) {
  v128_t p0 = column_period_vector(y, cols, 0);
  v128_t p1 = NP > 1 ? column_period_vector(y, cols, 1) : p0;
  v128_t p2 = NP > 2 ? column_period_vector(y, cols, 2) : p0;
  v128_t p3 = NP > 3 ? column_period_vector(y, cols, 3) : p0;
  v128_t p4 = NP > 4 ? column_period_vector(y, cols, 4) : p0;
  v128_t p5 = NP > 5 ? column_period_vector(y, cols, 5) : p0;
  v128_t p6 = NP > 6 ? column_period_vector(y, cols, 6) : p0;
  int period = 4 * NP, i = 0;
  for (; i + period <= n; i += period) {
#define PERIOD_STEP(k)                                                    \
  if (NP > k)                                                             \
    wasm_v128_store(out + i + 4 * k,                                      \
                    column_apply(wasm_v128_load(x + i + 4 * k), p##k, op, \
                                 swap));
    PERIOD_STEP(0) PERIOD_STEP(1) PERIOD_STEP(2) PERIOD_STEP(3)
    PERIOD_STEP(4) PERIOD_STEP(5) PERIOD_STEP(6)
#undef PERIOD_STEP
  }
  // Fewer than a period left, starting at a row (a period is whole rows).
  for (int t = 0; i + t < n; t++)
    out[i + t] = column_apply_scalar(x[i + t], y[t % cols], op, swap);
}

// out = x op y, where y has one value per column of x ([rows, cols]): a
// bias added, a batch-norm mean subtracted or a scale multiplied, per
// channel. op 0: add, 1: subtract, 2: multiply, 3: divide; with `swap` the
// per-column value is the left operand (y op x). Each value is computed
// alike on every path (one IEEE operation), so the paths agree bit for bit.
// Rows [r0, r1) only (all of them: the whole op): a period starts at any
// row, so threads that take disjoint row ranges give the whole result.
EXPORT("column_op")
void column_op(const f32 *x, const f32 *y, f32 *out, int rows, int cols,
               int op, int swap, int r0, int r1) {
  (void)rows;
  x += r0 * cols;
  out += r0 * cols;
  rows = r1 - r0;
  int n = rows * cols;
  // lcm(cols, 4) / 4 vectors of y per period: cols when odd, cols / 2 when
  // twice an odd number; periods of up to 7 vectors (cols 1, 2, 3, 5, 6,
  // 7, 10 and 14), by rows otherwise.
  switch (cols % 4 == 0 ? 0 : cols % 2 ? cols : cols / 2) {
    case 1: column_op_periodic(x, y, out, n, cols, op, swap, 1); return;
    case 3: column_op_periodic(x, y, out, n, cols, op, swap, 3); return;
    case 5: column_op_periodic(x, y, out, n, cols, op, swap, 5); return;
    case 7: column_op_periodic(x, y, out, n, cols, op, swap, 7); return;
    default: break;
  }
  int c4 = cols & ~3;
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols;
    f32 *o = out + r * cols;
    int c = 0;
    for (; c < c4; c += 4)
      wasm_v128_store(o + c, column_apply(wasm_v128_load(xr + c),
                                          wasm_v128_load(y + c), op, swap));
    for (; c < cols; c++) o[c] = column_apply_scalar(xr[c], y[c], op, swap);
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

// tanh of four lanes to within 1 ulp of the correctly rounded value
// (checked against float64 tanh on 5M points): an odd polynomial for
// |x| < 0.625, 1 - 2 / (e^2|x| + 1) above (e^t = 2^n e^r, |r| <= ln2/2,
// a polynomial for e^r), the sign put back last. NaN stays NaN (min and
// nearest propagate it), +-Infinity gives +-1. Coefficients: least-squares
// fits of this project (relative error), rounded to float32.
static inline v128_t tanh4(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(ax, ax);
  v128_t p = wasm_f32x4_splat(-0.0057981000281870365f);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(0.020720280706882477f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-0.053763799369335175f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(0.13331718742847443f));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, z), wasm_f32x4_splat(-0.33333292603492737f));
  v128_t small = wasm_f32x4_add(ax, wasm_f32x4_mul(ax, wasm_f32x4_mul(z, p)));
  // tanh(10) rounds to 1 in float32: clamping 2|x| at 20 avoids overflow.
  // pmin is one instruction where min's NaN handling takes several, and
  // keeps a NaN t (20 < NaN is false).
  v128_t t = wasm_f32x4_pmin(wasm_f32x4_add(ax, ax), wasm_f32x4_splat(20.f));
  // n = t log2(e) rounded to nearest even, by adding 1.5 * 2^23 (whose
  // float32 has no fraction bits left): the sum's low bits are then n as
  // an integer, which gives 2^n below without a float-to-int conversion
  // (V8 lowers trunc_sat to a long sequence); the same n as f32x4.nearest.
  v128_t magic = wasm_f32x4_splat(12582912.f);
  v128_t shifted = wasm_f32x4_add(
      wasm_f32x4_mul(t, wasm_f32x4_splat(1.44269504088896341f)), magic);
  v128_t n = wasm_f32x4_sub(shifted, magic);
  v128_t r = wasm_f32x4_sub(
      wasm_f32x4_sub(t, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693145751953125f))),
      wasm_f32x4_mul(n, wasm_f32x4_splat(1.428606765330187045e-06f)));
  v128_t q = wasm_f32x4_splat(0.0013752965023741126f);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0.008366139605641365f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0.04166920855641365f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0.16666541993618011f));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, r), wasm_f32x4_splat(0.49999991059303284f));
  v128_t er = wasm_f32x4_add(
      wasm_f32x4_splat(1.f),
      wasm_f32x4_add(r, wasm_f32x4_mul(wasm_f32x4_mul(r, r), q)));
  v128_t scale = wasm_i32x4_shl(
      wasm_i32x4_add(wasm_i32x4_sub(shifted, magic), wasm_i32x4_splat(127)),
      23);
  v128_t e = wasm_f32x4_mul(er, scale);
  v128_t large = wasm_f32x4_sub(
      wasm_f32x4_splat(1.f),
      wasm_f32x4_div(wasm_f32x4_splat(2.f),
                     wasm_f32x4_add(e, wasm_f32x4_splat(1.f))));
  v128_t res = wasm_v128_bitselect(
      small, large, wasm_f32x4_lt(ax, wasm_f32x4_splat(0.625f)));
  v128_t sign = wasm_i32x4_splat((int)0x80000000);
  return wasm_v128_or(wasm_v128_andnot(res, sign), wasm_v128_and(x, sign));
}

// Tanh of elements [i0, i1) of x into out (out never aliases x). The last
// one to three elements go through the same vector code as the rest, so
// every element gets the same bits wherever the range ends.
EXPORT("tanh_range")
void tanh_range(const f32 *x, f32 *out, int i0, int i1) {
  int i = i0;
  for (; i + 4 <= i1; i += 4) {
    wasm_v128_store(out + i, tanh4(wasm_v128_load(x + i)));
  }
  if (i < i1) {
    int left = i1 - i;
    v128_t v = wasm_f32x4_make(x[i], left > 1 ? x[i + 1] : 0.f,
                               left > 2 ? x[i + 2] : 0.f, 0.f);
    v128_t r = tanh4(v);
    out[i] = wasm_f32x4_extract_lane(r, 0);
    if (left > 1) out[i + 1] = wasm_f32x4_extract_lane(r, 1);
    if (left > 2) out[i + 2] = wasm_f32x4_extract_lane(r, 2);
  }
}

// Sigmoid's gradient from its output y: dx = dy * (y * (1 - y)), as
// tfjs's mul(dy, mul(y, sub(1, y))). tfjs computes this gradient and
// Tanh's as three or four kernel calls (a scalar, then sub/square/mul),
// each a pass over the tensor; here each is one pass. The operations and
// their order are tfjs's, in float32 without contraction (wasm has no
// fused multiply-add), so the results are the same bits as tfjs's cpu and
// wasm kernels give.
EXPORT("sigmoid_grad")
void sigmoid_grad(const f32 *y, const f32 *dy, f32 *dx, int n) {
  v128_t one4 = wasm_f32x4_splat(1.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t yv = wasm_v128_load(y + i);
    v128_t s = wasm_f32x4_mul(yv, wasm_f32x4_sub(one4, yv));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), s));
  }
  for (; i < n; i++) dx[i] = dy[i] * (y[i] * (1.f - y[i]));
}

// Tanh's gradient from its output y: dx = (1 - y * y) * dy, as tfjs's
// mul(sub(1, square(y)), dy).
EXPORT("tanh_grad")
void tanh_grad(const f32 *y, const f32 *dy, f32 *dx, int n) {
  v128_t one4 = wasm_f32x4_splat(1.f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t yv = wasm_v128_load(y + i);
    v128_t s = wasm_f32x4_sub(one4, wasm_f32x4_mul(yv, yv));
    wasm_v128_store(dx + i, wasm_f32x4_mul(s, wasm_v128_load(dy + i)));
  }
  for (; i < n; i++) dx[i] = (1.f - y[i] * y[i]) * dy[i];
}

// Sum over one or two axes with the innermost axis kept: x viewed as
// [a, p, b, q, c] (q = 1 for one axis) summed over p and q into
// [a, b, c]; each output starts at 0 and adds in (p, q) order, as
// tfjs-backend-wasm's Sum after its transpose. lenet5-1998's trainable
// subsampling sums 2x2 windows this way ([n, h/2, 2, w/2, 2, c] over axes
// 2 and 4), which tfjs runs as a transpose and a reduction.
// Outer indices [r0, r1) of a only (all of them: the whole sum); each
// output value is summed alike however they are split between threads.
EXPORT("sum_two_axes")
void sum_two_axes(const f32 *x, f32 *out, int a, int p, int b, int q, int c,
                  int r0, int r1) {
  (void)a;
  int c4 = c & ~3;
  for (int i = r0; i < r1; i++)
    for (int j = 0; j < b; j++) {
      f32 *o = out + (i * b + j) * c;
      int k = 0;
      for (; k < c4; k += 4) {
        v128_t acc = wasm_f32x4_splat(0.f);
        for (int u = 0; u < p; u++)
          for (int v = 0; v < q; v++)
            acc = wasm_f32x4_add(
                acc, wasm_v128_load(x + (((i * p + u) * b + j) * q + v) * c + k));
        wasm_v128_store(o + k, acc);
      }
      for (; k < c; k++) {
        f32 acc = 0.f;
        for (int u = 0; u < p; u++)
          for (int v = 0; v < q; v++)
            acc += x[(((i * p + u) * b + j) * q + v) * c + k];
        o[k] = acc;
      }
    }
}
