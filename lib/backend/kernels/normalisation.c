// Batch normalisation in training: the moments, the forward pass and the
// three gradients. See kernels.h for the rules every kernel follows.

#include "kernels.h"

// Batch normalisation in training, over the rows of x [rows, cols] (every
// axis but the channels, the last): the batch mean and (biased) variance
// per channel, as tfjs's moments computes them (the mean of the squared
// differences from the mean), and 1 / sqrt(variance + eps).
EXPORT("bn_moments")
void bn_moments(const f32 *x, f32 *mean, f32 *var, f32 *invstd, int rows,
                int cols, f32 eps) {
  int c4 = cols & ~3;
  zero(mean, cols);
  zero(var, cols);
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols;
    int c = 0;
    for (; c < c4; c += 4)
      wasm_v128_store(mean + c, wasm_f32x4_add(wasm_v128_load(mean + c),
                                               wasm_v128_load(xr + c)));
    for (; c < cols; c++) mean[c] += xr[c];
  }
  f32 inv_n = 1.f / (f32)rows;
  for (int c = 0; c < cols; c++) mean[c] *= inv_n;
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      wasm_v128_store(var + c, wasm_f32x4_add(wasm_v128_load(var + c),
                                              wasm_f32x4_mul(d, d)));
    }
    for (; c < cols; c++) {
      f32 d = xr[c] - mean[c];
      var[c] += d * d;
    }
  }
  for (int c = 0; c < cols; c++) {
    var[c] *= inv_n;
    invstd[c] = 1.f / __builtin_sqrtf(var[c] + eps);
  }
}

// out = (x - mean) * invstd * gamma + beta, per channel (the last axis),
// for rows [r0, r1) of x viewed as [rows, cols] (all of them: the whole
// normalisation). Rows are independent: threads that take disjoint ranges
// give the whole result bit for bit (inference's batch norm, over the
// moving statistics; training's calls it whole).
EXPORT("bn_forward")
void bn_forward(const f32 *x, const f32 *mean, const f32 *invstd,
                const f32 *gamma, const f32 *beta, f32 *out, int rows,
                int cols, int r0, int r1) {
  (void)rows;
  int c4 = cols & ~3;
  for (int r = r0; r < r1; r++) {
    const f32 *xr = x + r * cols;
    f32 *o = out + r * cols;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t d = wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c));
      v128_t s = wasm_f32x4_mul(wasm_v128_load(invstd + c),
                                wasm_v128_load(gamma + c));
      wasm_v128_store(o + c, wasm_f32x4_add(wasm_f32x4_mul(d, s),
                                            wasm_v128_load(beta + c)));
    }
    for (; c < cols; c++)
      o[c] = (xr[c] - mean[c]) * (invstd[c] * gamma[c]) + beta[c];
  }
}

// The gradients of batch normalisation in training (the batch statistics
// depend on x too), with xhat = (x - mean) invstd and N = rows:
//   dbeta = sum dy;  dgamma = sum dy xhat
//   dx = gamma invstd / N (N dy - dbeta - xhat dgamma)
EXPORT("bn_backward")
void bn_backward(const f32 *x, const f32 *dy, const f32 *mean,
                 const f32 *invstd, const f32 *gamma, f32 *dx, f32 *dgamma,
                 f32 *dbeta, int rows, int cols) {
  int c4 = cols & ~3;
  zero(dgamma, cols);
  zero(dbeta, cols);
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols, *dr = dy + r * cols;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t d = wasm_v128_load(dr + c);
      v128_t xh = wasm_f32x4_mul(
          wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c)),
          wasm_v128_load(invstd + c));
      wasm_v128_store(dbeta + c, wasm_f32x4_add(wasm_v128_load(dbeta + c), d));
      wasm_v128_store(dgamma + c, wasm_f32x4_add(wasm_v128_load(dgamma + c),
                                                 wasm_f32x4_mul(d, xh)));
    }
    for (; c < cols; c++) {
      f32 xh = (xr[c] - mean[c]) * invstd[c];
      dbeta[c] += dr[c];
      dgamma[c] += dr[c] * xh;
    }
  }
  f32 n = (f32)rows, inv_n = 1.f / (f32)rows;
  v128_t vn = wasm_f32x4_splat(n), vinv_n = wasm_f32x4_splat(inv_n);
  for (int r = 0; r < rows; r++) {
    const f32 *xr = x + r * cols, *dr = dy + r * cols;
    f32 *o = dx + r * cols;
    int c = 0;
    for (; c < c4; c += 4) {
      v128_t is = wasm_v128_load(invstd + c);
      v128_t xh = wasm_f32x4_mul(
          wasm_f32x4_sub(wasm_v128_load(xr + c), wasm_v128_load(mean + c)), is);
      v128_t t = wasm_f32x4_sub(
          wasm_f32x4_sub(wasm_f32x4_mul(vn, wasm_v128_load(dr + c)),
                         wasm_v128_load(dbeta + c)),
          wasm_f32x4_mul(xh, wasm_v128_load(dgamma + c)));
      v128_t k = wasm_f32x4_mul(
          wasm_f32x4_mul(wasm_v128_load(gamma + c), is), vinv_n);
      wasm_v128_store(o + c, wasm_f32x4_mul(k, t));
    }
    for (; c < cols; c++) {
      f32 xh = (xr[c] - mean[c]) * invstd[c];
      f32 t = (n * dr[c] - dbeta[c]) - xh * dgamma[c];
      o[c] = ((gamma[c] * invstd[c]) * inv_n) * t;
    }
  }
}
