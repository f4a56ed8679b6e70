// Dense (matrix product) kernels: C = A · Bᵀ by columns, C = A · B by rows
// (with bias and ReLU), and matmul_nn, which the convolution input gradient
// also uses. See kernels.h for the rules every kernel follows.

#include "kernels.h"

// C[m..m+MB)[n..n+NB) of C = A · Bᵀ, A [M, K] and B [N, K] row-major: every
// entry is a dot product along contiguous k, MB x NB of them in registers.
INLINE void nt_block(const f32 *a, const f32 *b, f32 *c, int n_cols, int k,
                     int m, int n, int MB, int NB) {
  v128_t acc[4][2];
  for (int i = 0; i < MB; i++)
    for (int j = 0; j < NB; j++) acc[i][j] = wasm_f32x4_splat(0.f);
  const f32 *ap = a + m * k, *bp = b + n * k;
  int kk = 0;
  for (; kk + 4 <= k; kk += 4) {
    v128_t b0 = wasm_v128_load(bp + kk);
    v128_t b1 = NB > 1 ? wasm_v128_load(bp + k + kk) : b0;
    for (int i = 0; i < MB; i++) {
      v128_t ai = wasm_v128_load(ap + i * k + kk);
      acc[i][0] = wasm_f32x4_add(acc[i][0], wasm_f32x4_mul(ai, b0));
      if (NB > 1) acc[i][1] = wasm_f32x4_add(acc[i][1], wasm_f32x4_mul(ai, b1));
    }
  }
  for (int i = 0; i < MB; i++)
    for (int j = 0; j < NB; j++) {
      f32 s = hsum(acc[i][j]);
      for (int t = kk; t < k; t++) s += ap[i * k + t] * bp[j * k + t];
      c[(m + i) * n_cols + n + j] = s;
    }
}

#define NT_BLOCKS(NB)                                            \
  switch (imin(4, m_rows - m)) {                                 \
    case 4: nt_block(a, b, c, n_cols, k, m, n, 4, NB); break;    \
    case 3: nt_block(a, b, c, n_cols, k, m, n, 3, NB); break;    \
    case 2: nt_block(a, b, c, n_cols, k, m, n, 2, NB); break;    \
    default: nt_block(a, b, c, n_cols, k, m, n, 1, NB);          \
  }

// Columns [n0, n1) of C = A · Bᵀ for A [m_rows, k] and B [n_cols, k]: a
// dense layer's input gradient (dy · Wᵀ) and a 1x1 convolution's (dy · Wᵀ
// per pixel) without transposing W first. Columns outermost, so a small A
// stays in cache while a large B streams through once.
INLINE void nt_cols(const f32 *a, const f32 *b, f32 *c, int m_rows,
                    int n_cols, int k, int n0, int n1) {
  int n = n0;
  for (; n + 2 <= n1; n += 2)
    for (int m = 0; m < m_rows; m += 4) NT_BLOCKS(2)
  for (; n < n1; n++)
    for (int m = 0; m < m_rows; m += 4) NT_BLOCKS(1)
}

// The columns [n0, n1) of C (all of them: the whole product); every entry
// is one dot product, computed alike however the columns are split.
EXPORT("matmul_nt_cols")
void matmul_nt_cols(const f32 *a, const f32 *b, f32 *c, int m_rows,
                    int n_cols, int k, int n0, int n1) {
  nt_cols(a, b, c, m_rows, n_cols, k, n0, n1);
}

// C[i..i+MB)[j..j+4 NV) of C = A · B (+ bias), A [M, K] and B [K, N]
// row-major, over k in [k0, k1): MB x NV vectors of C stay in registers
// while a row of B (4 NV columns) and one A value per row are loaded per
// k. The first k chunk starts from the bias (or zero), later ones from C.
INLINE void nn_block(const f32 *a, const f32 *b, f32 *c, const f32 *bias,
                     int n, int k, int i, int j, int k0, int k1, int MB,
                     int NV) {
  // Named accumulators, not an array: clang keeps an array indexed in a
  // loop on the stack here, and the module must not use the stack.
  v128_t c00, c01, c10, c11, c20, c21, c30, c31;
#define NN_INIT(r, v)                                                   \
  c##r##v = k0 > 0  ? wasm_v128_load(c + (i + r) * n + j + 4 * v)       \
            : bias ? wasm_v128_load(bias + j + 4 * v)                   \
                   : wasm_f32x4_splat(0.f)
  NN_INIT(0, 0);
  c01 = c10 = c11 = c20 = c21 = c30 = c31 = c00;
  if (NV > 1) NN_INIT(0, 1);
  if (MB > 1) NN_INIT(1, 0);
  if (MB > 1 && NV > 1) NN_INIT(1, 1);
  if (MB > 2) NN_INIT(2, 0);
  if (MB > 2 && NV > 1) NN_INIT(2, 1);
  if (MB > 3) NN_INIT(3, 0);
  if (MB > 3 && NV > 1) NN_INIT(3, 1);
#undef NN_INIT
  const f32 *ap = a + i * k;
  for (int q = k0; q < k1; q++) {
    const f32 *bq = b + q * n + j;
    v128_t b0 = wasm_v128_load(bq);
    v128_t b1 = NV > 1 ? wasm_v128_load(bq + 4) : b0;
#define NN_ROW(r)                                                       \
  if (MB > r) {                                                         \
    v128_t ar = wasm_f32x4_splat(ap[r * k + q]);                        \
    c##r##0 = wasm_f32x4_add(c##r##0, wasm_f32x4_mul(ar, b0));          \
    if (NV > 1) c##r##1 = wasm_f32x4_add(c##r##1, wasm_f32x4_mul(ar, b1)); \
  }
    NN_ROW(0) NN_ROW(1) NN_ROW(2) NN_ROW(3)
#undef NN_ROW
  }
#define NN_STORE(r)                                                     \
  if (MB > r) {                                                         \
    wasm_v128_store(c + (i + r) * n + j, c##r##0);                      \
    if (NV > 1) wasm_v128_store(c + (i + r) * n + j + 4, c##r##1);      \
  }
  NN_STORE(0) NN_STORE(1) NN_STORE(2) NN_STORE(3)
#undef NN_STORE
}

#define NN_BLOCKS(NV)                                                    \
  switch (imin(4, i1 - i)) {                                         \
    case 4: nn_block(a, b, c, bias, n, k, i, j, k0, k1, 4, NV); break;   \
    case 3: nn_block(a, b, c, bias, n, k, i, j, k0, k1, 3, NV); break;   \
    case 2: nn_block(a, b, c, bias, n, k, i, j, k0, k1, 2, NV); break;   \
    default: nn_block(a, b, c, bias, n, k, i, j, k0, k1, 1, NV);         \
  }

// C is computed in tiles of NN_M_CHUNK rows by 8 columns over k chunks of
// NN_K_CHUNK: the tile's slice of B (4 KiB) stays in L1 while the slice of
// A (32 KiB) is reused by every column panel.
#define NN_K_CHUNK 128
#define NN_M_CHUNK 64

// C = A · B (+ bias[N] on every row when `bias` is not 0) for A [m_rows, k]
// and B [k, n]: a dense layer's forward product and a 1x1 convolution's
// (x · W per pixel), with no packed copy of B. XNNPACK packs B into a new
// operator whenever B is a new tensor, as trained weights are every step
// (~25 ms for 1024x1024).
void matmul_nn(const f32 *a, const f32 *b, f32 *c, const f32 *bias,
               int m_rows, int n, int k) {
  int n4 = n & ~3;
  for (int k0 = 0; k0 < k || k0 == 0; k0 += NN_K_CHUNK) {
    int k1 = imin(k, k0 + NN_K_CHUNK);
    for (int i0 = 0; i0 < m_rows; i0 += NN_M_CHUNK) {
      int i1 = imin(m_rows, i0 + NN_M_CHUNK);
      int j = 0;
      for (; j + 8 <= n4; j += 8)
        for (int i = i0; i < i1; i += 4) NN_BLOCKS(2)
      for (; j < n4; j += 4)
        for (int i = i0; i < i1; i += 4) NN_BLOCKS(1)
    }
    if (k1 >= k) break;
  }
  // The last n % 4 columns, in scalars.
  for (int i = 0; i < m_rows; i++)
    for (int j = n4; j < n; j++) {
      f32 s = bias ? bias[j] : 0.f;
      for (int q = 0; q < k; q++) s += a[i * k + q] * b[q * n + j];
      c[i * n + j] = s;
    }
}

// Rows [r0, r1) of C = A · B (+ bias), then ReLU where `relu`: matmul_nn
// over a slice of A's rows (each row is computed alike however the rows
// are split), for dense layers on two threads.
EXPORT("matmul_nn_rows")
void matmul_nn_rows(const f32 *a, const f32 *b, f32 *c, const f32 *bias,
                    int relu, int m_rows, int n, int k, int r0, int r1) {
  (void)m_rows;
  if (r1 <= r0) return;
  matmul_nn(a + r0 * k, b, c + r0 * n, bias, r1 - r0, n, k);
  if (!relu) return;
  f32 *p = c + r0 * n;
  int size = (r1 - r0) * n, i = 0;
  v128_t z = wasm_f32x4_splat(0.f);
  for (; i + 4 <= size; i += 4)
    wasm_v128_store(p + i, wasm_f32x4_max(wasm_v128_load(p + i), z));
  for (; i < size; i++) p[i] = p[i] > 0.f ? p[i] : 0.f;
}
