// Shared by the project's SIMD kernels (lib/backend/kernels/*.c), which
// `deno task build-kernels` (scripts/build_kernels.ts) compiles together
// into kernels.wasm and kernels_shared.wasm.
//
// The module imports tfjs-backend-wasm's own WebAssembly.Memory, so every
// pointer here is an address in that backend's heap: kernels read and write
// tensors in place, with no copies. It therefore must never touch memory of
// its own: no static data and no stack (the build checks both). All arrays
// are float32, NHWC, row-major; filters are [filterHeight, filterWidth,
// inChannels, outChannels].
//
// Every exported kernel has a typed binding in lib/backend/bindings.ts,
// checked against the module's exports when it loads: a new EXPORT needs a
// line there too.

#ifndef KERNELS_H
#define KERNELS_H

#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))
#define INLINE static inline __attribute__((always_inline))

typedef float f32;

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

// First output index o with o * stride + offset >= 0.
static inline int first_valid(int offset, int stride) {
  if (offset >= 0) return 0;
  return (-offset + stride - 1) / stride;
}

// One past the last output index o with o * stride + offset < size.
static inline int end_valid(int offset, int stride, int size, int outSize) {
  if (size - 1 - offset < 0) return 0;
  return imin(outSize, (size - 1 - offset) / stride + 1);
}

static inline void zero(f32 *p, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(p + i, wasm_f32x4_splat(0.f));
  for (; i < n; i++) p[i] = 0.f;
}

// The sum of a vector's four lanes.
INLINE f32 hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

// C = A · B (+ bias[N] on every row when `bias` is not 0) for A [m_rows, k]
// and B [k, n] (dense.c): a dense layer's forward product, a 1x1
// convolution's, and the products of the convolution input gradient.
void matmul_nn(const f32 *a, const f32 *b, f32 *c, const f32 *bias,
               int m_rows, int n, int k);

#endif
