// Pooling kernels: the max-pool input gradient, whole or by output rows,
// and by output rows for 2x2 windows at stride 2.
// See kernels.h for the rules every kernel follows.

#include "kernels.h"

// The input gradient of a max pool: each output gradient goes to the first
// (row-major) maximum of its window, as tfjs-backend-cpu's kernel does.
// Geometry: n, h, w, c (channels), oh, ow, fh, fw, sh, sw, dh, dw, pt, pl.
// Adds into dx for output rows (image * oh + r) [r0, r1).
INLINE void pool_grad_rows(const f32 *x, const f32 *dy, f32 *dx, int h,
                           int w, int c, int oh, int ow, int fh, int fw,
                           int sh, int sw, int dh, int dwl, int pt, int pl,
                           int r0, int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / oh, r = row % oh;
    for (int q = 0; q < ow; q++) {
      const f32 *d = dy + ((b * oh + r) * ow + q) * c;
      int ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        v128_t best = wasm_f32x4_splat(0.f);
        v128_t at = wasm_i32x4_splat(-1);
        for (int kh = 0; kh < fh; kh++) {
          int ih = r * sh - pt + kh * dh;
          if (ih < 0 || ih >= h) continue;
          for (int kw = 0; kw < fw; kw++) {
            int iw = q * sw - pl + kw * dwl;
            if (iw < 0 || iw >= w) continue;
            int i = ((b * h + ih) * w + iw) * c + ch;
            v128_t v = wasm_v128_load(x + i);
            // Take v where it is larger, or where nothing is taken yet.
            v128_t take = wasm_v128_or(wasm_f32x4_gt(v, best),
                                       wasm_i32x4_lt(at, wasm_i32x4_splat(0)));
            best = wasm_v128_bitselect(v, best, take);
            at = wasm_v128_bitselect(wasm_i32x4_splat(i), at, take);
          }
        }
        int a0 = wasm_i32x4_extract_lane(at, 0);
        if (a0 >= 0) {
          dx[a0] += d[ch];
          dx[wasm_i32x4_extract_lane(at, 1) + 1] += d[ch + 1];
          dx[wasm_i32x4_extract_lane(at, 2) + 2] += d[ch + 2];
          dx[wasm_i32x4_extract_lane(at, 3) + 3] += d[ch + 3];
        }
      }
      for (; ch < c; ch++) {
        f32 best = 0.f;
        int at = -1;
        for (int kh = 0; kh < fh; kh++) {
          int ih = r * sh - pt + kh * dh;
          if (ih < 0 || ih >= h) continue;
          for (int kw = 0; kw < fw; kw++) {
            int iw = q * sw - pl + kw * dwl;
            if (iw < 0 || iw >= w) continue;
            int i = ((b * h + ih) * w + iw) * c + ch;
            if (at < 0 || x[i] > best) {
              best = x[i];
              at = i;
            }
          }
        }
        if (at >= 0) dx[at] += d[ch];
      }
    }
  }
}

EXPORT("max_pool_grad")
void max_pool_grad(const f32 *x, const f32 *dy, f32 *dx, int n, int h, int w,
                   int c, int oh, int ow, int fh, int fw, int sh, int sw,
                   int dh, int dwl, int pt, int pl) {
  zero(dx, n * h * w * c);
  pool_grad_rows(x, dy, dx, h, w, c, oh, ow, fh, fw, sh, sw, dh, dwl, pt, pl,
                 0, n * oh);
}

// The same for output rows (image * oh + r) [r0, r1) only, where windows do
// not overlap (fh <= sh, no dilation): each row zeroes, then fills, the
// input rows [r sh - pt, (r + 1) sh - pt) (the last row of an image also
// those below it), which no other row touches, so threads that take
// disjoint row ranges give the whole kernel's result.
EXPORT("max_pool_grad_rows")
void max_pool_grad_rows(const f32 *x, const f32 *dy, f32 *dx, int n, int h,
                        int w, int c, int oh, int ow, int fh, int fw, int sh,
                        int sw, int dh, int dwl, int pt, int pl, int r0,
                        int r1) {
  (void)n;
  for (int row = r0; row < r1; row++) {
    int b = row / oh, r = row % oh;
    int top = r == 0 ? 0 : imax(0, r * sh - pt);
    int end = r == oh - 1 ? h : imin(h, (r + 1) * sh - pt);
    if (end > top) zero(dx + (b * h + top) * w * c, (end - top) * w * c);
    pool_grad_rows(x, dy, dx, h, w, c, oh, ow, fh, fw, sh, sw, dh, dwl, pt,
                   pl, row, row + 1);
  }
}

// The max-pool input gradient for 2x2 windows at stride 2 that tile the
// input exactly (no padding, h = 2 oh, w = 2 ow), c >= 4: every input value
// lies in one window, so each is written once, dy where it is its window's
// first (row-major) maximum and 0 elsewhere, with no zeroing and no
// scatter. Four channels a vector; the last c % 4 as an overlapping vector
// (the same values again). A NaN first in its window takes the gradient,
// as in pool_grad_rows. Output rows (image * oh + r) [r0, r1); each
// writes input rows 2 row and 2 row + 1 only, so threads that take
// disjoint ranges give the whole result.
EXPORT("max_pool_grad_2x2_rows")
void max_pool_grad_2x2_rows(const f32 *x, const f32 *dy, f32 *dx, int n,
                            int h, int w, int c, int oh, int ow, int r0,
                            int r1) {
  (void)n, (void)h, (void)oh;
  int stride = w * c;
  for (int row = r0; row < r1; row++) {
    // Image b's input row 2 r is row b h + 2 r = 2 (b oh + r) = 2 row.
    const f32 *x0 = x + 2 * row * stride, *x1 = x0 + stride;
    f32 *d0 = dx + 2 * row * stride, *d1 = d0 + stride;
    const f32 *g = dy + row * ow * c;
    for (int q = 0; q < ow; q++) {
      for (int c0 = 0; c0 < c; c0 += 4) {
        int ch = imin(c0, c - 4);
        int a = 2 * q * c + ch, b = a + c;
        v128_t v00 = wasm_v128_load(x0 + a), v01 = wasm_v128_load(x0 + b);
        v128_t v10 = wasm_v128_load(x1 + a), v11 = wasm_v128_load(x1 + b);
        v128_t t01 = wasm_f32x4_gt(v01, v00);
        v128_t best = wasm_v128_bitselect(v01, v00, t01);
        v128_t t10 = wasm_f32x4_gt(v10, best);
        best = wasm_v128_bitselect(v10, best, t10);
        v128_t t11 = wasm_f32x4_gt(v11, best);
        // The last tap that took is the window's first maximum.
        v128_t later10 = wasm_v128_or(t10, t11);
        v128_t w00 = wasm_v128_not(wasm_v128_or(t01, later10));
        v128_t w01 = wasm_v128_andnot(t01, later10);
        v128_t w10 = wasm_v128_andnot(t10, t11);
        v128_t gv = wasm_v128_load(g + q * c + ch);
        wasm_v128_store(d0 + a, wasm_v128_and(gv, w00));
        wasm_v128_store(d0 + b, wasm_v128_and(gv, w01));
        wasm_v128_store(d1 + a, wasm_v128_and(gv, w10));
        wasm_v128_store(d1 + b, wasm_v128_and(gv, t11));
      }
    }
  }
}

// A max pool over 2x2 windows at stride 2 that start at the input's corner
// (no top or left padding, 2 oh <= h, 2 ow <= w), c >= 4: out [n, oh, ow,
// c] for output rows (image * oh + r) [r0, r1). The maximum is IEEE's
// (f32x4.max): a NaN in a window gives NaN, as PyTorch's max pool does,
// where the shipped kernel gave -Infinity and so hid a diverged layer.
// Four channels a vector; the last c % 4 as an overlapping vector (the same
// values again). Rows are independent: threads that take disjoint ranges
// give the whole result.
EXPORT("max_pool_2x2_rows")
void max_pool_2x2_rows(const f32 *x, f32 *out, int n, int h, int w, int c,
                       int oh, int ow, int r0, int r1) {
  (void)n;
  int stride = w * c;
  for (int row = r0; row < r1; row++) {
    int b = row / oh, r = row % oh;
    const f32 *x0 = x + (b * h + 2 * r) * stride, *x1 = x0 + stride;
    f32 *o = out + row * ow * c;
    for (int q = 0; q < ow; q++) {
      for (int c0 = 0; c0 < c; c0 += 4) {
        int ch = imin(c0, c - 4);
        int a = 2 * q * c + ch, a2 = a + c;
        v128_t top = wasm_f32x4_max(wasm_v128_load(x0 + a),
                                    wasm_v128_load(x0 + a2));
        v128_t bottom = wasm_f32x4_max(wasm_v128_load(x1 + a),
                                       wasm_v128_load(x1 + a2));
        wasm_v128_store(o + q * c + ch, wasm_f32x4_max(top, bottom));
      }
    }
  }
}
