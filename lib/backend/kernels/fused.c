// Fused elementwise gradients, built into the same module as kernels.c
// (scripts/build_kernels.ts compiles every .c file of this folder) and
// bound in lib/backend/fused_kernels.ts.
//
// tfjs computes these gradients from its saved outputs as three or four
// kernel calls (a scalar, then sub/square/mul), each a pass over the
// tensor; here each is one pass. The operations and their order are
// tfjs's, in float32 without contraction (wasm has no fused multiply-add),
// so the results are the same bits as tfjs's cpu and wasm kernels give.

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

typedef float f32;

// Sigmoid's gradient from its output y: dx = dy * (y * (1 - y)), as
// tfjs's mul(dy, mul(y, sub(1, y))).
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
