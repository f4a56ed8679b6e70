// Convolution kernels: the filter gradient (any geometry, and one input
// channel at stride 1), the input gradient, the forward pass over a padded
// input (few channels, or any on two threads), depthwise gradients, and the
// zero-padded copy they read. See kernels.h for the rules every kernel
// follows.

#include "kernels.h"

// The geometry of one convolution, as the host passes it.
typedef struct {
  int n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dw, pt, pl;
} Geometry;

// The output pixels that filter tap (kh, kw) pairs with an input pixel,
// within output rows [r0, r1): rows [ra, rb), columns [qa, qb), the input
// at row r * sh + rowOff, column q * sw + colOff; returns from the calling
// kernel when there are none. Needs g, r0, r1, kh and kw in scope.
#define TAP_PIXELS                                                         \
  int rowOff = kh * g->dh - g->pt, colOff = kw * g->dw - g->pl;            \
  int ra = imax(r0, first_valid(rowOff, g->sh));                           \
  int rb = imin(r1, end_valid(rowOff, g->sh, g->h, g->oh));                \
  int qa = first_valid(colOff, g->sw);                                     \
  int qb = end_valid(colOff, g->sw, g->w, g->ow);                          \
  if (ra >= rb || qa >= qb) return

// dW[tap][c..c+NB)[o..o+4*NV) += sum over the pixels of rows [r0, r1) of
// image b of x[pixel + tap][c..] * dy[pixel][o..]: NB x NV accumulators stay
// in registers for the whole pixel range. With skip > 0 (NV 1 only) the
// first `skip` lanes belong to the previous block and are not stored: the
// last co % 4 channels are done as an overlapping vector, not in scalars.
INLINE void filter_block(const Geometry *g, const f32 *x, const f32 *dy,
                         f32 *dw, int b, int r0, int r1, int kh, int kw,
                         int c, int o, int NB, int NV, int skip) {
  TAP_PIXELS;
  f32 *out = dw + ((kh * g->fw + kw) * g->ci + c) * g->co + o;
  v128_t acc[4][2];
  for (int i = 0; i < NB; i++)
    for (int v = 0; v < NV; v++)
      acc[i][v] = wasm_v128_load(out + i * g->co + 4 * v);
  int xStep = g->sw * g->ci;
  for (int r = ra; r < rb; r++) {
    const f32 *xp = x + ((b * g->h + r * g->sh + rowOff) * g->w +
                         qa * g->sw + colOff) * g->ci + c;
    const f32 *dp = dy + ((b * g->oh + r) * g->ow + qa) * g->co + o;
    for (int q = qa; q < qb; q++, xp += xStep, dp += g->co) {
      v128_t d0 = wasm_v128_load(dp);
      v128_t d1 = NV > 1 ? wasm_v128_load(dp + 4) : d0;
      for (int i = 0; i < NB; i++) {
        v128_t xi = wasm_f32x4_splat(xp[i]);
        acc[i][0] = wasm_f32x4_add(acc[i][0], wasm_f32x4_mul(xi, d0));
        if (NV > 1)
          acc[i][1] = wasm_f32x4_add(acc[i][1], wasm_f32x4_mul(xi, d1));
      }
    }
  }
  for (int i = 0; i < NB; i++) {
    f32 *row = out + i * g->co;
    if (skip == 0) {
      for (int v = 0; v < NV; v++) wasm_v128_store(row + 4 * v, acc[i][v]);
      continue;
    }
    if (skip <= 1) row[1] = wasm_f32x4_extract_lane(acc[i][0], 1);
    if (skip <= 2) row[2] = wasm_f32x4_extract_lane(acc[i][0], 2);
    row[3] = wasm_f32x4_extract_lane(acc[i][0], 3);
  }
}

// filter_block for one input channel (NB 1: grey images, LeNet-5's first
// layer): a single accumulator per vector would wait on its own previous
// add at every pixel, so four pixels go to four partial sums, added up at
// the end of the row range.
INLINE void filter_block1(const Geometry *g, const f32 *x, const f32 *dy,
                          f32 *dw, int b, int r0, int r1, int kh, int kw,
                          int c, int o, int NV, int skip) {
  TAP_PIXELS;
  f32 *out = dw + ((kh * g->fw + kw) * g->ci + c) * g->co + o;
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t a0 = wasm_v128_load(out), b0 = z, c0 = z, d0 = z;
  v128_t a1 = NV > 1 ? wasm_v128_load(out + 4) : z, b1 = z, c1 = z, d1 = z;
  int xStep = g->sw * g->ci, co = g->co;
  for (int r = ra; r < rb; r++) {
    const f32 *xp = x + ((b * g->h + r * g->sh + rowOff) * g->w +
                         qa * g->sw + colOff) * g->ci + c;
    const f32 *dp = dy + ((b * g->oh + r) * g->ow + qa) * co + o;
    int q = qa;
    for (; q + 4 <= qb; q += 4, xp += 4 * xStep, dp += 4 * co) {
#define F1_PIXEL(acc0, acc1, p)                                              \
  {                                                                          \
    v128_t xv = wasm_f32x4_splat(xp[(p) * xStep]);                           \
    acc0 = wasm_f32x4_add(acc0,                                              \
                          wasm_f32x4_mul(xv, wasm_v128_load(dp + (p) * co))); \
    if (NV > 1)                                                              \
      acc1 = wasm_f32x4_add(                                                 \
          acc1, wasm_f32x4_mul(xv, wasm_v128_load(dp + (p) * co + 4)));      \
  }
      F1_PIXEL(a0, a1, 0) F1_PIXEL(b0, b1, 1) F1_PIXEL(c0, c1, 2)
      F1_PIXEL(d0, d1, 3)
    }
    for (; q < qb; q++, xp += xStep, dp += co) F1_PIXEL(a0, a1, 0)
#undef F1_PIXEL
  }
  a0 = wasm_f32x4_add(wasm_f32x4_add(a0, b0), wasm_f32x4_add(c0, d0));
  if (NV > 1)
    a1 = wasm_f32x4_add(wasm_f32x4_add(a1, b1), wasm_f32x4_add(c1, d1));
  if (skip == 0) {
    wasm_v128_store(out, a0);
    if (NV > 1) wasm_v128_store(out + 4, a1);
    return;
  }
  if (skip <= 1) out[1] = wasm_f32x4_extract_lane(a0, 1);
  if (skip <= 2) out[2] = wasm_f32x4_extract_lane(a0, 2);
  out[3] = wasm_f32x4_extract_lane(a0, 3);
}

// The same for one output channel o (the tail of co % 4), in scalars.
static void filter_scalar(const Geometry *g, const f32 *x, const f32 *dy,
                          f32 *dw, int b, int r0, int r1, int kh, int kw,
                          int c, int o) {
  TAP_PIXELS;
  f32 acc = 0.f;
  for (int r = ra; r < rb; r++) {
    const f32 *xp = x + ((b * g->h + r * g->sh + rowOff) * g->w +
                         qa * g->sw + colOff) * g->ci + c;
    const f32 *dp = dy + ((b * g->oh + r) * g->ow + qa) * g->co + o;
    for (int q = qa; q < qb; q++, xp += g->sw * g->ci, dp += g->co)
      acc += *xp * *dp;
  }
  dw[((kh * g->fw + kw) * g->ci + c) * g->co + o] += acc;
}

#define FILTER_BLOCKS(NV, SKIP)                                              \
  switch (nb) {                                                              \
    case 4: filter_block(g, x, dy, dw, b, r0, r1, kh, kw, c, o, 4, NV, SKIP); break; \
    case 3: filter_block(g, x, dy, dw, b, r0, r1, kh, kw, c, o, 3, NV, SKIP); break; \
    case 2: filter_block(g, x, dy, dw, b, r0, r1, kh, kw, c, o, 2, NV, SKIP); break; \
    default: filter_block1(g, x, dy, dw, b, r0, r1, kh, kw, c, o, NV, SKIP);     \
  }

// A unit of the filter gradient is one tap (kh, kw) times one block of up
// to 4 input channels: dW[tap][c..c+4)[all co], contiguous in dW. Units
// [u0, u1) over the pixels of rows [r0, r1) of image b.
static void filter_grad_rows(const Geometry *g, const f32 *x, const f32 *dy,
                             f32 *dw, int b, int r0, int r1, int u0, int u1) {
  int blocks = (g->ci + 3) / 4;
  for (int u = u0; u < u1; u++) {
    int t = u / blocks, c = (u % blocks) * 4;
    int kh = t / g->fw, kw = t % g->fw;
    int nb = imin(4, g->ci - c);
    int o = 0;
    for (; o + 8 <= g->co; o += 8) FILTER_BLOCKS(2, 0)
    for (; o + 4 <= g->co; o += 4) FILTER_BLOCKS(1, 0)
    if (o < g->co && g->co >= 4) {
      int skip = 4 - (g->co - o);
      o = g->co - 4;
      FILTER_BLOCKS(1, skip)
      o = g->co;
    }
    for (; o < g->co; o++)
      for (int i = 0; i < nb; i++)
        filter_scalar(g, x, dy, dw, b, r0, r1, kh, kw, c + i, o);
  }
}

INLINE void filter_grad_units(const Geometry *g, const f32 *x, const f32 *dy,
                              f32 *dw, int u0, int u1) {
  int blocks = (g->ci + 3) / 4;
  for (int u = u0; u < u1; u++) {
    int t = u / blocks, c = (u % blocks) * 4;
    zero(dw + (t * g->ci + c) * g->co, imin(4, g->ci - c) * g->co);
  }
  int rows = imax(1, 256 / (g->ow > 0 ? g->ow : 1));
  for (int b = 0; b < g->n; b++)
    for (int r = 0; r < g->oh; r += rows)
      filter_grad_rows(g, x, dy, dw, b, r, imin(g->oh, r + rows), u0, u1);
}

// The filter gradient of a 2-D convolution, [fh, fw, ci, co], computed
// directly (no im2col), for units [u0, u1) (a unit is one tap (kh * fw +
// kw) times one block of 4 input channels, unit = tap * ceil(ci / 4) +
// block; all of them: the whole gradient). Output rows are taken a few at
// a time so that the slices of x and dy they touch stay in cache across
// all taps and channels. Each unit is summed in the same order however the
// units are split, so threads that take disjoint ranges give the whole
// gradient bit for bit.
EXPORT("conv2d_filter_grad_units")
void conv2d_filter_grad_units(const f32 *x, const f32 *dy, f32 *dw, int n,
                              int h, int w, int ci, int oh, int ow, int co,
                              int fh, int fw, int sh, int sw, int dh, int dwl,
                              int pt, int pl, int u0, int u1) {
  Geometry geo = {n, h, w, ci, oh, ow, co, fh, fw, sh, sw, dh, dwl, pt, pl};
  filter_grad_units(&geo, x, dy, dw, u0, u1);
}

// Gradients of a depthwise convolution with channel multiplier 1 (filter
// [fh, fw, c, 1]); both walk the output pixels once and vectorise over
// channels. `which` 0: the filter gradient into `out` ([fh, fw, c]); 1: the
// input gradient into `out` ([n, h, w, c]) from `a` = dy and `b2` = filter.
INLINE void depthwise_pass(const f32 *in, const f32 *dy, f32 *out, int n,
                           int h, int w, int c, int oh, int ow, int fh, int fw,
                           int sh, int sw, int dh, int dwl, int pt, int pl,
                           int which) {
  for (int b = 0; b < n; b++)
    for (int r = 0; r < oh; r++)
      for (int q = 0; q < ow; q++) {
        const f32 *d = dy + ((b * oh + r) * ow + q) * c;
        for (int kh = 0; kh < fh; kh++) {
          int ih = r * sh - pt + kh * dh;
          if (ih < 0 || ih >= h) continue;
          for (int kw = 0; kw < fw; kw++) {
            int iw = q * sw - pl + kw * dwl;
            if (iw < 0 || iw >= w) continue;
            int pixel = ((b * h + ih) * w + iw) * c;
            int tap = (kh * fw + kw) * c;
            // filter gradient: out[tap] += x[pixel] * dy
            // input gradient: out[pixel] += filter[tap] * dy
            const f32 *src = which == 0 ? in + pixel : in + tap;
            f32 *dst = which == 0 ? out + tap : out + pixel;
            int ch = 0;
            for (; ch + 4 <= c; ch += 4) {
              v128_t p = wasm_f32x4_mul(wasm_v128_load(src + ch),
                                        wasm_v128_load(d + ch));
              wasm_v128_store(dst + ch,
                              wasm_f32x4_add(wasm_v128_load(dst + ch), p));
            }
            for (; ch < c; ch++) dst[ch] += src[ch] * d[ch];
          }
        }
      }
}

EXPORT("depthwise_filter_grad")
void depthwise_filter_grad(const f32 *x, const f32 *dy, f32 *dw, int n, int h,
                           int w, int c, int oh, int ow, int fh, int fw,
                           int sh, int sw, int dh, int dwl, int pt, int pl) {
  zero(dw, fh * fw * c);
  depthwise_pass(x, dy, dw, n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dwl, pt,
                 pl, 0);
}

EXPORT("depthwise_input_grad")
void depthwise_input_grad(const f32 *filter, const f32 *dy, f32 *dx, int n,
                          int h, int w, int c, int oh, int ow, int fh, int fw,
                          int sh, int sw, int dh, int dwl, int pt, int pl) {
  zero(dx, n * h * w * c);
  depthwise_pass(filter, dy, dx, n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dwl,
                 pt, pl, 1);
}

// dW[kh][kw0 .. kw0 + KW)[o0], [o0 + 1] of a one-channel, stride-1,
// undilated convolution, summed over the output rows (image * oh + y)
// [r0, r1): xp[b][y + kh][x + kw] * dy[b][y][x][o], four pixels x per
// vector, from the padded input xp [n, hp, wp] and the output gradient
// transposed to dyt [n oh][co][ow4] (zeros past ow). KW x 2 accumulators
// stay in registers; the sums are written (not added) to dw.
INLINE void one_channel_filter_unit(const f32 *xp, const f32 *dyt, f32 *dw,
                                    int oh, int ow4, int hp, int wp, int co,
                                    int fw, int kh, int kw0, int o0, int r0,
                                    int r1, int KW) {
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t p0 = z, p1 = z, p2 = z, p3 = z, p4 = z;
  v128_t q0 = z, q1 = z, q2 = z, q3 = z, q4 = z;
  int o1 = o0 + 1 < co ? o0 + 1 : o0;
  for (int row = r0; row < r1; row++) {
    int b = row / oh, y = row % oh;
    const f32 *xr = xp + (b * hp + y + kh) * wp + kw0;
    const f32 *d0p = dyt + (row * co + o0) * ow4;
    const f32 *d1p = dyt + (row * co + o1) * ow4;
    for (int x = 0; x < ow4; x += 4) {
      v128_t d0 = wasm_v128_load(d0p + x), d1 = wasm_v128_load(d1p + x);
#define ONE_FILTER_TAP(k)                                                  \
  if (KW > k) {                                                            \
    v128_t xv = wasm_v128_load(xr + x + k);                                \
    p##k = wasm_f32x4_add(p##k, wasm_f32x4_mul(xv, d0));                   \
    q##k = wasm_f32x4_add(q##k, wasm_f32x4_mul(xv, d1));                   \
  }
      ONE_FILTER_TAP(0) ONE_FILTER_TAP(1) ONE_FILTER_TAP(2)
      ONE_FILTER_TAP(3) ONE_FILTER_TAP(4)
#undef ONE_FILTER_TAP
    }
  }
  f32 *out = dw + (kh * fw + kw0) * co;
#define ONE_FILTER_STORE(k)                                                \
  if (KW > k) {                                                            \
    out[k * co + o0] = hsum(p##k);                                         \
    if (o1 != o0) out[k * co + o1] = hsum(q##k);                           \
  }
  ONE_FILTER_STORE(0) ONE_FILTER_STORE(1) ONE_FILTER_STORE(2)
  ONE_FILTER_STORE(3) ONE_FILTER_STORE(4)
#undef ONE_FILTER_STORE
}

// out [rows][c][cols4] = x [rows][cols][c] transposed per row, rows
// [r0, r1) only: out[r][ch][q] = x[r][q][ch] for q < cols, 0 up to cols4.
INLINE void transpose_rows(const f32 *x, f32 *out, int cols, int c,
                           int cols4, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    const f32 *xr = x + r * cols * c;
    f32 *o = out + r * c * cols4;
    for (int ch = 0; ch < c; ch++) {
      f32 *oc = o + ch * cols4;
      int q = 0;
      for (; q < cols; q++) oc[q] = xr[q * c + ch];
      for (; q < cols4; q++) oc[q] = 0.f;
    }
  }
}

// Partial filter gradients [fh, fw, 1, co] of a one-channel, stride-1,
// undilated convolution (LeNet-5's first layer), one per chunk of
// `chunk_rows` output rows (image * oh + y), for chunks [c0, c1), into
// partial [chunks][fh fw co]; their sum in chunk order (sum_rows) is the
// gradient, the same however threads split the chunks. A chunk's rows of
// xp and dyt stay in cache while every filter row and channel pair passes
// over them. xp is x zero-padded to [n, hp, wp] with hp = oh + fh - 1 and
// wp = ow4 + fw - 1, ow4 being ow rounded up to 4; each chunk first writes
// its rows of dy [n oh][ow][co] transposed into dyt [n oh][co][ow4], with
// zeros past ow.
EXPORT("conv2d_filter_grad_one_channel")
void conv2d_filter_grad_one_channel(const f32 *xp, const f32 *dy, f32 *dyt,
                                    f32 *partial, int n, int oh, int ow,
                                    int ow4, int hp, int wp, int co, int fh,
                                    int fw, int chunk_rows, int c0, int c1) {
  int pairs = (co + 1) / 2, size = fh * fw * co;
  for (int c = c0; c < c1; c++) {
    int r0 = c * chunk_rows, r1 = imin(n * oh, r0 + chunk_rows);
    transpose_rows(dy, dyt, ow, co, ow4, r0, r1);
    f32 *dw = partial + c * size;
    for (int u = 0; u < fh * pairs; u++) {
      int kh = u / pairs, o0 = (u % pairs) * 2;
      for (int kw0 = 0; kw0 < fw; kw0 += 5) {
        switch (imin(5, fw - kw0)) {
#define ONE_FILTER_CALL(K)                                                 \
  case K:                                                                  \
    one_channel_filter_unit(xp, dyt, dw, oh, ow4, hp, wp, co, fw, kh, kw0,  \
                            o0, r0, r1, K);                                \
    break;
          ONE_FILTER_CALL(5) ONE_FILTER_CALL(4) ONE_FILTER_CALL(3)
          ONE_FILTER_CALL(2) ONE_FILTER_CALL(1)
#undef ONE_FILTER_CALL
        }
      }
    }
  }
}

// Copies x [n, h, w, c] into out [n, h + pt + pb, w + pl + pr, c] with zero
// borders, so that a convolution over `out` needs no bounds checks.
EXPORT("pad_nhwc")
void pad_nhwc(const f32 *x, f32 *out, int n, int h, int w, int c, int pt,
              int pb, int pl, int pr) {
  int hp = h + pt + pb, wp = w + pl + pr, row = w * c;
  for (int b = 0; b < n; b++) {
    f32 *ob = out + b * hp * wp * c;
    zero(ob, pt * wp * c);
    for (int y = 0; y < h; y++) {
      f32 *o = ob + (pt + y) * wp * c;
      const f32 *xr = x + (b * h + y) * row;
      zero(o, pl * c);
      __builtin_memcpy(o + pl * c, xr, row * sizeof(f32));
      zero(o + (pl + w) * c, pr * c);
    }
    zero(ob + (pt + h) * wp * c, pb * wp * c);
  }
}

// Output pixels (b, y, x + p) for p < PB, channels [o, o + 4 NV), of a
// convolution over a padded input (no bounds checks), from the bias or
// zero, ReLU applied when `relu`; `out` points at pixel (b, y, x). PB x NV
// accumulators stay in registers over all taps and input channels.
INLINE void direct_block(const f32 *xp, const f32 *wt, f32 *out,
                         const f32 *bias, int relu, int hp, int wp, int ci,
                         int co, int fh, int fw, int sh, int sw, int dh,
                         int dw, int b, int y, int x, int o, int o2, int PB,
                         int NV) {
  v128_t z = bias ? wasm_v128_load(bias + o) : wasm_f32x4_splat(0.f);
  v128_t z1 = NV > 1 ? (bias ? wasm_v128_load(bias + o2) : z) : z;
  v128_t c00 = z, c01 = z1, c10 = z, c11 = z1, c20 = z, c21 = z1, c30 = z,
         c31 = z1;
  int pixStep = sw * ci;
  for (int kh = 0; kh < fh; kh++) {
    const f32 *xrow = xp + ((b * hp + y * sh + kh * dh) * wp + x * sw) * ci;
    for (int kw = 0; kw < fw; kw++) {
      const f32 *xq = xrow + kw * dw * ci;
      const f32 *wq = wt + (kh * fw + kw) * ci * co + o;
      for (int c = 0; c < ci; c++) {
        v128_t w0 = wasm_v128_load(wq + c * co);
        v128_t w1 = NV > 1 ? wasm_v128_load(wq + c * co + o2 - o) : w0;
#define DIRECT_PIXEL(p)                                                  \
  if (PB > p) {                                                          \
    v128_t xv = wasm_f32x4_splat(xq[p * pixStep + c]);                   \
    c##p##0 = wasm_f32x4_add(c##p##0, wasm_f32x4_mul(xv, w0));           \
    if (NV > 1) c##p##1 = wasm_f32x4_add(c##p##1, wasm_f32x4_mul(xv, w1)); \
  }
        DIRECT_PIXEL(0) DIRECT_PIXEL(1) DIRECT_PIXEL(2) DIRECT_PIXEL(3)
#undef DIRECT_PIXEL
      }
    }
  }
  v128_t zero4 = wasm_f32x4_splat(0.f);
  f32 *base = out + o;
#define DIRECT_STORE(p)                                                  \
  if (PB > p) {                                                          \
    f32 *q = base + p * co;                                              \
    wasm_v128_store(q, relu ? wasm_f32x4_max(c##p##0, zero4) : c##p##0); \
    if (NV > 1)                                                          \
      wasm_v128_store(q + o2 - o,                                        \
                      relu ? wasm_f32x4_max(c##p##1, zero4) : c##p##1);  \
  }
  DIRECT_STORE(0) DIRECT_STORE(1) DIRECT_STORE(2) DIRECT_STORE(3)
#undef DIRECT_STORE
}

#define DIRECT_BLOCKS(NV)                                                 \
  switch (imin(4, ow - x)) {                                              \
    case 4: DIRECT_CALL(4, NV); break;                                    \
    case 3: DIRECT_CALL(3, NV); break;                                    \
    case 2: DIRECT_CALL(2, NV); break;                                    \
    default: DIRECT_CALL(1, NV);                                          \
  }
#define DIRECT_CALL(PB, NV)                                               \
  direct_block(xp, wt, px, bias, relu, hp, wp, ci, co, fh, fw, sh, sw, dh, \
               dw, b, y, x, o, o2, PB, NV)

INLINE void direct_rows(const f32 *xp, const f32 *wt, f32 *out,
                        const f32 *bias, int relu, int hp, int wp, int ci,
                        int oh, int ow, int co, int fh, int fw, int sh,
                        int sw, int dh, int dw, int r0, int r1) {
  for (int row = r0; row < r1; row++) {
    int b = row / oh, y = row % oh;
    for (int x = 0; x < ow; x += 4) {
      f32 *px = out + ((b * oh + y) * ow + x) * co;
      int o = 0, o2 = 4;
      for (; o + 8 <= co; o += 8, o2 = o + 4) DIRECT_BLOCKS(2)
      if (co - o > 4) {
        o2 = co - 4;
        DIRECT_BLOCKS(2)
      } else if (co > o) {
        o = co - 4;
        DIRECT_BLOCKS(1)
      }
    }
  }
}

// A convolution computed directly over a zero-padded input xp [n, hp, wp,
// ci] (see pad_nhwc) into out [n, oh, ow, co], co >= 4, plus the bias
// (when not 0) and ReLU (when `relu`): for the few input channels where
// XNNPACK's packed kernels do poorly (LeNet-5's first layer, 1 -> 6), and
// for any convolution on two threads (XNNPACK runs on one here); from 16
// input channels on it is as fast as XNNPACK on one thread.
// Channels go 8 at a time (two vectors, the second at o2); the last co % 8
// as two overlapping vectors or one (same values written twice), not in
// scalars. Output rows (image * oh + y) [r0, r1) only (all of them: the
// whole convolution): threads that take disjoint row ranges give the
// whole result.
EXPORT("conv2d_direct_rows")
void conv2d_direct_rows(const f32 *xp, const f32 *wt, f32 *out,
                        const f32 *bias, int relu, int n, int hp, int wp,
                        int ci, int oh, int ow, int co, int fh, int fw, int sh,
                        int sw, int dh, int dw, int r0, int r1) {
  (void)n;
  direct_rows(xp, wt, out, bias, relu, hp, wp, ci, oh, ow, co, fh, fw, sh, sw,
              dh, dw, r0, r1);
}
#undef DIRECT_CALL
#undef DIRECT_BLOCKS

// Output pixels x .. x + 8 of row (b, y), channels [o, o + G), of a
// one-channel, stride-1, undilated convolution over a padded input: with
// one input channel, the taps of 8 neighbouring pixels are 8 contiguous
// input values, so the pixels go in the vector lanes (two vectors) and
// every lane is useful, where conv2d_direct_rows would put 6 channels in 8
// lanes and splat one input value per pixel and tap.
INLINE void one_channel_block(const f32 *xp, const f32 *wt, f32 *out,
                              const f32 *bias, int relu, int hp, int wp,
                              int oh, int ow, int co, int fh, int fw, int b,
                              int y, int x, int o, int G) {
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z;
  v128_t b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z;
  for (int kh = 0; kh < fh; kh++) {
    const f32 *row = xp + (b * hp + y + kh) * wp + x;
    const f32 *wk = wt + kh * fw * co + o;
    for (int kw = 0; kw < fw; kw++, wk += co) {
      v128_t x0 = wasm_v128_load(row + kw), x1 = wasm_v128_load(row + kw + 4);
#define ONE_TAP(g)                                                       \
  if (G > g) {                                                           \
    v128_t wv = wasm_v128_load32_splat(wk + g);                          \
    a##g = wasm_f32x4_add(a##g, wasm_f32x4_mul(x0, wv));                 \
    b##g = wasm_f32x4_add(b##g, wasm_f32x4_mul(x1, wv));                 \
  }
      ONE_TAP(0) ONE_TAP(1) ONE_TAP(2) ONE_TAP(3) ONE_TAP(4) ONE_TAP(5)
#undef ONE_TAP
    }
  }
  f32 *px = out + ((b * oh + y) * ow + x) * co + o;
#define ONE_STORE(g)                                                     \
  if (G > g) {                                                           \
    v128_t bv = bias ? wasm_v128_load32_splat(bias + o + g) : z;         \
    a##g = wasm_f32x4_add(a##g, bv);                                     \
    b##g = wasm_f32x4_add(b##g, bv);                                     \
    if (relu) {                                                          \
      a##g = wasm_f32x4_max(a##g, z);                                    \
      b##g = wasm_f32x4_max(b##g, z);                                    \
    }                                                                    \
    px[0 * co + g] = wasm_f32x4_extract_lane(a##g, 0);                   \
    px[1 * co + g] = wasm_f32x4_extract_lane(a##g, 1);                   \
    px[2 * co + g] = wasm_f32x4_extract_lane(a##g, 2);                   \
    px[3 * co + g] = wasm_f32x4_extract_lane(a##g, 3);                   \
    px[4 * co + g] = wasm_f32x4_extract_lane(b##g, 0);                   \
    px[5 * co + g] = wasm_f32x4_extract_lane(b##g, 1);                   \
    px[6 * co + g] = wasm_f32x4_extract_lane(b##g, 2);                   \
    px[7 * co + g] = wasm_f32x4_extract_lane(b##g, 3);                   \
  }
  ONE_STORE(0) ONE_STORE(1) ONE_STORE(2) ONE_STORE(3) ONE_STORE(4)
  ONE_STORE(5)
#undef ONE_STORE
}

#define ONE_GROUPS                                                         \
  switch (imin(6, co - o)) {                                               \
    case 6: ONE_CALL(6); break;                                            \
    case 5: ONE_CALL(5); break;                                            \
    case 4: ONE_CALL(4); break;                                            \
    case 3: ONE_CALL(3); break;                                            \
    case 2: ONE_CALL(2); break;                                            \
    default: ONE_CALL(1);                                                  \
  }
#define ONE_CALL(G)                                                        \
  one_channel_block(xp, wt, out, bias, relu, hp, wp, oh, ow, co, fh, fw,  \
                    b, y, x, o, G)

// conv2d_direct_rows (same arguments) for one input channel (grey images:
// LeNet-5's first layer), stride 1, no dilation, ow >= 8 (ci, the strides
// and dilations are then not read): pixels 8 at a time (the last 8 overlap
// the previous block when ow % 8 > 0, and write the same values again),
// channels 6 at a time.
EXPORT("conv2d_one_channel_rows")
void conv2d_one_channel_rows(const f32 *xp, const f32 *wt, f32 *out,
                             const f32 *bias, int relu, int n, int hp,
                             int wp, int ci, int oh, int ow, int co, int fh,
                             int fw, int sh, int sw, int dh, int dw, int r0,
                             int r1) {
  (void)n, (void)ci, (void)sh, (void)sw, (void)dh, (void)dw;
  for (int row = r0; row < r1; row++) {
    int b = row / oh, y = row % oh;
    for (int x0 = 0; x0 < ow; x0 += 8) {
      int x = imin(x0, ow - 8);
      for (int o = 0; o < co; o += 6) ONE_GROUPS
    }
  }
}
#undef ONE_CALL
#undef ONE_GROUPS

// dst[0, n) += src[0, n).
INLINE void add_run(f32 *dst, const f32 *src, int n) {
  int i = 0;
  for (; i + 4 <= n; i += 4)
    wasm_v128_store(dst + i, wasm_f32x4_add(wasm_v128_load(dst + i),
                                            wasm_v128_load(src + i)));
  for (; i < n; i++) dst[i] += src[i];
}

// The input gradient of a convolution as products and scatters, one image
// at a time: cols = dy[b] · Wᵀ ([oh ow, fh fw ci], by matmul_nn over the
// filter transposed into `wt` [co, fh fw ci]), then every column block is
// added to the input pixel its tap reads (col2im). Undilated, the taps of
// one filter row read neighbouring pixels, so their blocks go as one run
// of (valid taps) x ci values (LeNet-5's 6 channels: 30 values in 7
// vectors, not 5 vectors and 10 scalars); every input value receives the
// same sums in the same order either way. `cols` holds one image's
// columns; dx is overwritten.
INLINE void input_grad_images(const f32 *dy, const f32 *w, f32 *dx, f32 *wt,
                              f32 *cols, int h, int wd, int ci, int oh,
                              int ow, int co, int fh, int fw, int sh, int sw,
                              int dh, int dw, int pt, int pl, int b0, int b1) {
  int taps = fh * fw * ci;
  for (int t = 0; t < taps; t++)
    for (int o = 0; o < co; o++) wt[o * taps + t] = w[t * co + o];
  zero(dx + b0 * h * wd * ci, (b1 - b0) * h * wd * ci);
  for (int b = b0; b < b1; b++) {
    matmul_nn(dy + b * oh * ow * co, wt, cols, 0, oh * ow, taps, co);
    f32 *dxb = dx + b * h * wd * ci;
    for (int y = 0; y < oh; y++)
      for (int x = 0; x < ow; x++) {
        const f32 *cp = cols + (y * ow + x) * taps;
        int ix0 = x * sw - pl, kw0 = imax(0, -ix0), kw1 = imin(fw, wd - ix0);
        for (int kh = 0; kh < fh; kh++) {
          int iy = y * sh + kh * dh - pt;
          if (iy < 0 || iy >= h) continue;
          if (dw == 1) {
            if (kw1 > kw0)
              add_run(dxb + (iy * wd + ix0 + kw0) * ci,
                      cp + (kh * fw + kw0) * ci, (kw1 - kw0) * ci);
            continue;
          }
          for (int kw = 0; kw < fw; kw++) {
            int ix = x * sw + kw * dw - pl;
            if (ix < 0 || ix >= wd) continue;
            add_run(dxb + (iy * wd + ix) * ci, cp + (kh * fw + kw) * ci, ci);
          }
        }
      }
  }
}

EXPORT("conv2d_input_grad")
void conv2d_input_grad(const f32 *dy, const f32 *w, f32 *dx, f32 *wt,
                       f32 *cols, int n, int h, int wd, int ci, int oh,
                       int ow, int co, int fh, int fw, int sh, int sw, int dh,
                       int dw, int pt, int pl) {
  input_grad_images(dy, w, dx, wt, cols, h, wd, ci, oh, ow, co, fh, fw, sh,
                    sw, dh, dw, pt, pl, 0, n);
}

// The same for images [b0, b1) only (images are independent): threads that
// take disjoint image ranges give the whole kernel's result bit for bit.
EXPORT("conv2d_input_grad_images")
void conv2d_input_grad_images(const f32 *dy, const f32 *w, f32 *dx, f32 *wt,
                              f32 *cols, int n, int h, int wd, int ci, int oh,
                              int ow, int co, int fh, int fw, int sh, int sw,
                              int dh, int dw, int pt, int pl, int b0, int b1) {
  (void)n;
  input_grad_images(dy, w, dx, wt, cols, h, wd, ci, oh, ow, co, fh, fw, sh,
                    sw, dh, dw, pt, pl, b0, b1);
}
