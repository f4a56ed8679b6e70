// Data-movement kernels: a broadcast (Tile of axes of size 1, as the
// gradient of a sum spreads dy back over the summed axes).
// See kernels.h for the rules every kernel follows.

#include "kernels.h"

// dst, contiguous of shape [d0, ..., d5], gets src read with strides s0 ..
// s5 (in values; 0 repeats one value along that axis): a broadcast, with
// the innermost axis a vector copy (s5 = 1) or a vector fill (s5 = 0; a
// broadcast's innermost axis is one or the other). Values are moved as
// bits (float32 or int32 alike).
EXPORT("broadcast_strided")
void broadcast_strided(const f32 *src, f32 *dst, int d0, int d1, int d2,
                       int d3, int d4, int d5, int s0, int s1, int s2, int s3,
                       int s4, int s5) {
  for (int i0 = 0; i0 < d0; i0++)
    for (int i1 = 0; i1 < d1; i1++)
      for (int i2 = 0; i2 < d2; i2++)
        for (int i3 = 0; i3 < d3; i3++)
          for (int i4 = 0; i4 < d4; i4++, dst += d5) {
            const f32 *p = src + i0 * s0 + i1 * s1 + i2 * s2 + i3 * s3 +
                           i4 * s4;
            int i = 0;
            if (s5 == 0) {
              v128_t v = wasm_v128_load32_splat(p);
              for (; i + 4 <= d5; i += 4) wasm_v128_store(dst + i, v);
              for (; i < d5; i++) wasm_v128_store32_lane(dst + i, v, 0);
            } else {
              for (; i + 4 <= d5; i += 4)
                wasm_v128_store(dst + i, wasm_v128_load(p + i));
              for (; i < d5; i++)
                wasm_v128_store32_lane(dst + i, wasm_v128_load32_zero(p + i),
                                       0);
            }
          }
}
