// The multiply-add ceiling of the kernels' inner loops, for the bench
// (scripts/bench.ts): how many multiply-adds a second this module's 128-bit
// SIMD does when nothing but arithmetic limits it. See kernels.h for the
// rules every kernel follows.

#include "kernels.h"

// conv2d_direct_rows' register block (4 pixels x 8 channels: 8
// accumulators, two filter vectors, one input value splat per pixel) run
// `steps` times over x (64 floats, which stay in L1 cache), with no other
// memory traffic: 32 multiply-adds per step. Units [u0, u1) (one per call
// when unthreaded) each run it and write the sum of their accumulators to
// out[unit], so that no step can be optimised away; with every x equal to
// 0.5 that sum is exactly 8 * steps (for steps below 2^21).
EXPORT("multiply_add_peak")
void multiply_add_peak(const f32 *x, f32 *out, int steps, int u0, int u1) {
  for (int u = u0; u < u1; u++) {
    v128_t w0 = wasm_v128_load(x), w1 = wasm_v128_load(x + 4);
    v128_t z = wasm_f32x4_splat(0.f);
    v128_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z,
           c31 = z;
    for (int s = 0; s < steps; s++) {
      const f32 *xs = x + (s & 15) * 4;
#define PEAK_PIXEL(p)                                                    \
  {                                                                      \
    v128_t xv = wasm_f32x4_splat(xs[p]);                                 \
    c##p##0 = wasm_f32x4_add(c##p##0, wasm_f32x4_mul(xv, w0));           \
    c##p##1 = wasm_f32x4_add(c##p##1, wasm_f32x4_mul(xv, w1));           \
  }
      PEAK_PIXEL(0) PEAK_PIXEL(1) PEAK_PIXEL(2) PEAK_PIXEL(3)
#undef PEAK_PIXEL
    }
    v128_t sum = wasm_f32x4_add(
        wasm_f32x4_add(wasm_f32x4_add(c00, c01), wasm_f32x4_add(c10, c11)),
        wasm_f32x4_add(wasm_f32x4_add(c20, c21), wasm_f32x4_add(c30, c31)));
    out[u] = hsum(sum);
  }
}
