// Optimizer steps: Adam and Adamax, one variable per call, op for op as
// tfjs computes them. See kernels.h for the rules every kernel follows.

#include "kernels.h"

// One Adam step for one variable, as tfjs's AdamOptimizer computes it, op
// for op in float32 (so the result is the same to the last bit):
//   m' = m b1 + g (1 - b1);  v' = v b2 + g² (1 - b2)
//   value' = (m' / c1) / (sqrt(v' / c2) + eps) * (-lr) + value
// with c1 = 1 - b1^t and c2 = 1 - b2^t. Outputs are fresh buffers.
EXPORT("adam_update")
void adam_update(const f32 *value, const f32 *grad, const f32 *m,
                 const f32 *v, f32 *value_out, f32 *m_out, f32 *v_out, int n,
                 f32 beta1, f32 one_minus_beta1, f32 beta2,
                 f32 one_minus_beta2, f32 c1, f32 c2, f32 eps, f32 neg_lr) {
  v128_t b1 = wasm_f32x4_splat(beta1), nb1 = wasm_f32x4_splat(one_minus_beta1);
  v128_t b2 = wasm_f32x4_splat(beta2), nb2 = wasm_f32x4_splat(one_minus_beta2);
  v128_t vc1 = wasm_f32x4_splat(c1), vc2 = wasm_f32x4_splat(c2);
  v128_t ve = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neg_lr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t g = wasm_v128_load(grad + i);
    v128_t m1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1),
                               wasm_f32x4_mul(g, nb1));
    v128_t v1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2),
                               wasm_f32x4_mul(wasm_f32x4_mul(g, g), nb2));
    v128_t step = wasm_f32x4_div(
        wasm_f32x4_div(m1, vc1),
        wasm_f32x4_add(wasm_f32x4_sqrt(wasm_f32x4_div(v1, vc2)), ve));
    wasm_v128_store(m_out + i, m1);
    wasm_v128_store(v_out + i, v1);
    wasm_v128_store(value_out + i,
                    wasm_f32x4_add(wasm_f32x4_mul(step, vlr),
                                   wasm_v128_load(value + i)));
  }
  for (; i < n; i++) {
    f32 g = grad[i];
    f32 m1 = m[i] * beta1 + g * one_minus_beta1;
    f32 v1 = v[i] * beta2 + (g * g) * one_minus_beta2;
    f32 step = (m1 / c1) / (__builtin_sqrtf(v1 / c2) + eps);
    m_out[i] = m1;
    v_out[i] = v1;
    value_out[i] = step * neg_lr + value[i];
  }
}

// One Adamax step for one variable, as tfjs's AdamaxOptimizer computes it:
//   m' = m b1 + g (1 - b1);  u' = max(u b2, |g|)
//   value' = rate * (m' / (u' + eps)) + value
// with rate = (-lr / (t decay + 1)) / (1 - b1^t), computed by the caller.
EXPORT("adamax_update")
void adamax_update(const f32 *value, const f32 *grad, const f32 *m,
                   const f32 *u, f32 *value_out, f32 *m_out, f32 *u_out,
                   int n, f32 beta1, f32 one_minus_beta1, f32 beta2, f32 eps,
                   f32 rate) {
  v128_t b1 = wasm_f32x4_splat(beta1), nb1 = wasm_f32x4_splat(one_minus_beta1);
  v128_t b2 = wasm_f32x4_splat(beta2), ve = wasm_f32x4_splat(eps);
  v128_t vr = wasm_f32x4_splat(rate);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t g = wasm_v128_load(grad + i);
    v128_t m1 = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1),
                               wasm_f32x4_mul(g, nb1));
    v128_t ub = wasm_f32x4_mul(wasm_v128_load(u + i), b2);
    v128_t ag = wasm_f32x4_abs(g);
    // max as tfjs computes it: the larger, b where a < b.
    v128_t u1 = wasm_v128_bitselect(ag, ub, wasm_f32x4_lt(ub, ag));
    wasm_v128_store(m_out + i, m1);
    wasm_v128_store(u_out + i, u1);
    v128_t q = wasm_f32x4_div(m1, wasm_f32x4_add(u1, ve));
    wasm_v128_store(value_out + i,
                    wasm_f32x4_add(wasm_f32x4_mul(vr, q),
                                   wasm_v128_load(value + i)));
  }
  for (; i < n; i++) {
    f32 g = grad[i];
    f32 m1 = m[i] * beta1 + g * one_minus_beta1;
    f32 ub = u[i] * beta2, ag = __builtin_fabsf(g);
    f32 u1 = ub < ag ? ag : ub;
    m_out[i] = m1;
    u_out[i] = u1;
    value_out[i] = rate * (m1 / (u1 + eps)) + value[i];
  }
}
