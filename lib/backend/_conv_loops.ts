/**
 * Plain loops over NHWC float32 arrays for the convolution gradients that
 * the `wasm` backend lacks and the `cpu` backend computes slowly. Shared by
 * both backends: they only differ in where the arrays live (the wasm heap or
 * JS memory).
 *
 * Loop order matters more than anything else here: the innermost loop always
 * walks contiguous output channels, so it streams through memory, while
 * tfjs-backend-cpu's reference kernels put the batch loop innermost.
 *
 * @module
 */

/** The geometry of one 2-D convolution, as tfjs's `Conv2DInfo` gives it. */
export interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padInfo: { top: number; left: number };
}

/**
 * Writes the patches of `x` ("im2col") as a `[batch * outHeight * outWidth,
 * filterHeight * filterWidth * inChannels]` row-major matrix into `out`, the
 * column order matching a `[kh, kw, ci, co]` filter; padding reads as zero.
 */
export function im2col(
  x: Float32Array,
  g: ConvGeometry,
  out: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: c } = g;
  const rowLength = g.filterHeight * g.filterWidth * c;
  let row = 0;
  for (let b = 0; b < g.batchSize; b++) {
    const xBatch = b * h * w * c;
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padInfo.top;
      for (let ow = 0; ow < g.outWidth; ow++, row++) {
        const iwBase = ow * g.strideWidth - g.padInfo.left;
        let o = row * rowLength;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ihBase + kh * g.dilationHeight;
          if (ih < 0 || ih >= h) {
            out.fill(0, o, o + g.filterWidth * c);
            o += g.filterWidth * c;
            continue;
          }
          const xRow = xBatch + ih * w * c;
          for (let kw = 0; kw < g.filterWidth; kw++, o += c) {
            const iw = iwBase + kw * g.dilationWidth;
            if (iw < 0 || iw >= w) {
              out.fill(0, o, o + c);
            } else if (c === 1) {
              out[o] = x[xRow + iw];
            } else {
              const start = xRow + iw * c;
              out.set(x.subarray(start, start + c), o);
            }
          }
        }
      }
    }
  }
}

/**
 * Writes the patches of `x` transposed ("im2col"ᵀ): a `[filterHeight *
 * filterWidth * inChannels, batch * outHeight * outWidth]` row-major matrix,
 * row order matching a `[kh, kw, ci, co]` filter; padding reads as zero.
 * This layout lets the filter gradient be one untransposed matrix product
 * (patchesᵀ · dy), which XNNPACK runs several times faster than a product
 * with a transposed operand. Writes are sequential; reads stride by
 * `strideWidth * inChannels`.
 */
export function im2colTransposed(
  x: Float32Array,
  g: ConvGeometry,
  out: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: c, outWidth: ow } = g;
  const sw = g.strideWidth;
  const rowLength = g.batchSize * g.outHeight * ow;
  let o = 0;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const iwShift = kw * g.dilationWidth - g.padInfo.left;
      // Output columns whose input column lies inside the image.
      const owStart = Math.min(ow, Math.max(0, Math.ceil(-iwShift / sw)));
      const owEnd = Math.max(
        owStart,
        Math.min(ow, Math.floor((w - 1 - iwShift) / sw) + 1),
      );
      for (let ch = 0; ch < c; ch++) {
        const rowEnd = o + rowLength;
        for (let b = 0; b < g.batchSize; b++) {
          for (let oh = 0; oh < g.outHeight; oh++) {
            const ih = oh * g.strideHeight - g.padInfo.top +
              kh * g.dilationHeight;
            if (ih < 0 || ih >= h) {
              out.fill(0, o, o + ow);
              o += ow;
              continue;
            }
            if (owStart > 0) out.fill(0, o, o + owStart);
            const base = ((b * h + ih) * w + iwShift) * c + ch;
            const step = sw * c;
            for (let j = owStart; j < owEnd; j++) {
              out[o + j] = x[base + j * step];
            }
            if (owEnd < ow) out.fill(0, o + owEnd, o + ow);
            o += ow;
          }
        }
        if (o !== rowEnd) throw new Error("im2colTransposed: bad geometry");
      }
    }
  }
}

/**
 * Spreads `dy` (`[b, oh, ow, c]`) over a `[b, (oh - 1) * sh + 1, (ow - 1) *
 * sw + 1, c]` grid with zeros between the rows and columns, so that the
 * input gradient of a strided convolution becomes a stride-1 convolution.
 */
export function dilateRows(
  dy: Float32Array,
  shape: readonly number[],
  strideHeight: number,
  strideWidth: number,
  out: Float32Array,
): void {
  const [b, oh, ow, c] = shape;
  const dh = (oh - 1) * strideHeight + 1;
  const dw = (ow - 1) * strideWidth + 1;
  out.fill(0);
  for (let n = 0; n < b; n++) {
    for (let i = 0; i < oh; i++) {
      const src = ((n * oh + i) * ow) * c;
      const dst = ((n * dh + i * strideHeight) * dw) * c;
      for (let j = 0; j < ow; j++) {
        out.set(
          dy.subarray(src + j * c, src + j * c + c),
          dst + j * strideWidth * c,
        );
      }
    }
  }
}

/**
 * Turns a `[kh, kw, ci, co]` filter into the `[kh, kw, co, ci]` filter
 * rotated by 180 degrees that convolves an output gradient back into an
 * input gradient.
 */
export function rotateFilter(
  filter: Float32Array,
  shape: readonly number[],
  out: Float32Array,
): void {
  const [fh, fw, ci, co] = shape;
  for (let kh = 0; kh < fh; kh++) {
    for (let kw = 0; kw < fw; kw++) {
      const src = ((fh - 1 - kh) * fw + (fw - 1 - kw)) * ci * co;
      const dst = (kh * fw + kw) * co * ci;
      for (let i = 0; i < ci; i++) {
        for (let o = 0; o < co; o++) {
          out[dst + o * ci + i] = filter[src + i * co + o];
        }
      }
    }
  }
}

/**
 * The filter gradient of a dense 2-D convolution, `[kh, kw, ci, co]`,
 * accumulated in float64 so that summing over a whole batch stays exact to
 * float32 precision.
 */
export function conv2dFilterGrad(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Float32Array {
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = g;
  const acc = new Float64Array(g.filterHeight * g.filterWidth * ci * co);
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padInfo.top;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iwBase = ow * g.strideWidth - g.padInfo.left;
        const dyOff = ((b * g.outHeight + oh) * g.outWidth + ow) * co;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ihBase + kh * g.dilationHeight;
          if (ih < 0 || ih >= h) continue;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = iwBase + kw * g.dilationWidth;
            if (iw < 0 || iw >= w) continue;
            const xOff = ((b * h + ih) * w + iw) * ci;
            let accOff = (kh * g.filterWidth + kw) * ci * co;
            for (let c = 0; c < ci; c++, accOff += co) {
              const xv = x[xOff + c];
              if (xv === 0) continue;
              for (let o = 0; o < co; o++) {
                acc[accOff + o] += xv * dy[dyOff + o];
              }
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

/**
 * The filter gradient of a depthwise convolution, `[kh, kw, c, multiplier]`;
 * `g.outChannels` is `inChannels * multiplier`.
 */
export function depthwiseFilterGrad(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
): Float32Array {
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = g;
  const m = co / ci;
  const acc = new Float64Array(g.filterHeight * g.filterWidth * co);
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padInfo.top;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iwBase = ow * g.strideWidth - g.padInfo.left;
        const dyOff = ((b * g.outHeight + oh) * g.outWidth + ow) * co;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ihBase + kh * g.dilationHeight;
          if (ih < 0 || ih >= h) continue;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = iwBase + kw * g.dilationWidth;
            if (iw < 0 || iw >= w) continue;
            const xOff = ((b * h + ih) * w + iw) * ci;
            const accOff = (kh * g.filterWidth + kw) * co;
            for (let c = 0; c < ci; c++) {
              const xv = x[xOff + c];
              for (let q = 0; q < m; q++) {
                acc[accOff + c * m + q] += xv * dy[dyOff + c * m + q];
              }
            }
          }
        }
      }
    }
  }
  return Float32Array.from(acc);
}

/**
 * The input gradient of a depthwise convolution, `[b, h, w, c]`, from the
 * output gradient and the `[kh, kw, c, multiplier]` filter.
 */
export function depthwiseInputGrad(
  dy: Float32Array,
  filter: Float32Array,
  g: ConvGeometry,
): Float32Array {
  const { inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = g;
  const m = co / ci;
  const dx = new Float32Array(g.batchSize * h * w * ci);
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padInfo.top;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iwBase = ow * g.strideWidth - g.padInfo.left;
        const dyOff = ((b * g.outHeight + oh) * g.outWidth + ow) * co;
        for (let kh = 0; kh < g.filterHeight; kh++) {
          const ih = ihBase + kh * g.dilationHeight;
          if (ih < 0 || ih >= h) continue;
          for (let kw = 0; kw < g.filterWidth; kw++) {
            const iw = iwBase + kw * g.dilationWidth;
            if (iw < 0 || iw >= w) continue;
            const dxOff = ((b * h + ih) * w + iw) * ci;
            const fOff = (kh * g.filterWidth + kw) * co;
            for (let c = 0; c < ci; c++) {
              let sum = 0;
              for (let q = 0; q < m; q++) {
                sum += filter[fOff + c * m + q] * dy[dyOff + c * m + q];
              }
              dx[dxOff + c] += sum;
            }
          }
        }
      }
    }
  }
  return dx;
}

/**
 * The input gradient of a max pool: each output gradient goes to the first
 * (row-major) maximum of its window, as tfjs-backend-cpu's kernel does.
 * `g.outChannels` equals `g.inChannels`; `out` must be zero-filled.
 */
export function maxPoolGrad(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
  out: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: c } = g;
  if (
    g.filterHeight === 2 && g.filterWidth === 2 && g.strideHeight === 2 &&
    g.strideWidth === 2 && g.padInfo.top === 0 && g.padInfo.left === 0 &&
    g.dilationHeight === 1 && g.dilationWidth === 1 &&
    2 * g.outHeight <= h && 2 * g.outWidth <= w
  ) {
    _maxPoolGrad2x2(x, dy, g, out);
    return;
  }
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const ihBase = oh * g.strideHeight - g.padInfo.top;
      for (let ow = 0; ow < g.outWidth; ow++) {
        const iwBase = ow * g.strideWidth - g.padInfo.left;
        const dyOff = ((b * g.outHeight + oh) * g.outWidth + ow) * c;
        for (let ch = 0; ch < c; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let kh = 0; kh < g.filterHeight; kh++) {
            const ih = ihBase + kh * g.dilationHeight;
            if (ih < 0 || ih >= h) continue;
            for (let kw = 0; kw < g.filterWidth; kw++) {
              const iw = iwBase + kw * g.dilationWidth;
              if (iw < 0 || iw >= w) continue;
              const i = ((b * h + ih) * w + iw) * c + ch;
              if (x[i] > best || at < 0) {
                best = x[i];
                at = i;
              }
            }
          }
          if (at >= 0) out[at] += dy[dyOff + ch];
        }
      }
    }
  }
}

/** The common 2x2, stride-2, unpadded max pool, without window loops. */
function _maxPoolGrad2x2(
  x: Float32Array,
  dy: Float32Array,
  g: ConvGeometry,
  out: Float32Array,
): void {
  const { inHeight: h, inWidth: w, inChannels: c } = g;
  const rowStep = w * c;
  let d = 0;
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      let i00 = ((b * h + 2 * oh) * w) * c;
      for (let ow = 0; ow < g.outWidth; ow++, i00 += c) {
        for (let ch = 0; ch < c; ch++, i00++, d++) {
          let at = i00;
          let best = x[i00];
          const i01 = i00 + c;
          if (x[i01] > best) {
            best = x[i01];
            at = i01;
          }
          const i10 = i00 + rowStep;
          if (x[i10] > best) {
            best = x[i10];
            at = i10;
          }
          const i11 = i10 + c;
          if (x[i11] > best) at = i11;
          out[at] += dy[d];
        }
      }
    }
  }
}

/**
 * The layout of {@linkcode writeShiftedPatches}: the zero-padded input as
 * `[inChannels, batch, gridHeight, gridWidth]` (plus `slack` zeros at the
 * end), and the columns of the patch matrix: per batch, the first
 * `usedRows` rows of the grid, every grid column included.
 */
export interface ShiftedPatchGrid {
  gridHeight: number;
  gridWidth: number;
  /** Grid rows that hold an output position (`(outHeight - 1) * sh + 1`). */
  usedRows: number;
  /** Columns of the patch matrix: `batch * usedRows * gridWidth`. */
  columns: number;
  /** Elements of the padded input, slack included. */
  paddedSize: number;
}

/** The geometry of {@linkcode writeShiftedPatches} for a convolution. */
export function shiftedPatchGrid(g: ConvGeometry): ShiftedPatchGrid {
  const gridHeight = (g.outHeight - 1) * g.strideHeight +
    (g.filterHeight - 1) * g.dilationHeight + 1;
  const gridWidth = (g.outWidth - 1) * g.strideWidth +
    (g.filterWidth - 1) * g.dilationWidth + 1;
  const usedRows = (g.outHeight - 1) * g.strideHeight + 1;
  const slack = (g.filterWidth - 1) * g.dilationWidth;
  return {
    gridHeight,
    gridWidth,
    usedRows,
    columns: g.batchSize * usedRows * gridWidth,
    paddedSize: g.inChannels * g.batchSize * gridHeight * gridWidth + slack,
  };
}

/**
 * Writes the patch matrix of a convolution's filter gradient without a
 * per-element loop, for the matrix product `patches · dyGrid` (see
 * {@linkcode spreadOutputGradient}). All arrays live in one `heap` and are
 * given by their element offsets: `xt` is the input, channel-major
 * (`[c, b, h, w]`); `padded` (`grid.paddedSize` elements) is scratch space.
 *
 * Row `(kh, kw, ch)` of the patches is the padded channel `ch` read from
 * the offset of tap `(kh, kw)` in the grid: one contiguous copy per batch
 * (per row if the grid has unused rows), done by `copyWithin`. Columns
 * that are no output position read some neighbouring input value, and
 * their `dyGrid` row is zero, so they add nothing (for finite inputs).
 */
export function writeShiftedPatches(
  heap: Float32Array,
  xt: number,
  padded: number,
  patches: number,
  grid: ShiftedPatchGrid,
  g: ConvGeometry,
): void {
  const { gridHeight: gh, gridWidth: gw, usedRows } = grid;
  const { inHeight: h, inWidth: w, batchSize: batch } = g;
  const top = g.padInfo.top;
  const left = g.padInfo.left;
  heap.fill(0, padded, padded + grid.paddedSize);
  const rowLength = Math.min(w, gw - left);
  const lastRow = Math.min(h, gh - top);
  let src = xt;
  for (let plane = 0; plane < g.inChannels * batch; plane++) {
    const dst = padded + plane * gh * gw + top * gw + left;
    for (let r = 0; r < lastRow; r++) {
      heap.copyWithin(dst + r * gw, src + r * w, src + r * w + rowLength);
    }
    src += h * w;
  }
  const block = gh * gw;
  const used = usedRows * gw;
  let o = patches;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const shift = kh * g.dilationHeight * gw + kw * g.dilationWidth;
      for (let ch = 0; ch < g.inChannels; ch++) {
        const base = padded + ch * batch * block + shift;
        if (used === block) {
          heap.copyWithin(o, base, base + batch * block);
          o += batch * block;
          continue;
        }
        for (let b = 0; b < batch; b++, o += used) {
          heap.copyWithin(o, base + b * block, base + b * block + used);
        }
      }
    }
  }
}

/**
 * Writes `dy` (`[b, oh, ow, co]`, at offset `dy` of `heap`) as the
 * `[grid.columns, co]` right operand of {@linkcode writeShiftedPatches}'
 * product: each output position at its grid column, zeros elsewhere.
 */
export function spreadOutputGradient(
  heap: Float32Array,
  dy: number,
  out: number,
  grid: ShiftedPatchGrid,
  g: ConvGeometry,
): void {
  const co = g.outChannels;
  heap.fill(0, out, out + grid.columns * co);
  const rowStep = g.strideHeight * grid.gridWidth * co;
  const batchStep = grid.usedRows * grid.gridWidth * co;
  const span = g.outWidth * co;
  let src = dy;
  for (let b = 0; b < g.batchSize; b++) {
    let dst = out + b * batchStep;
    for (let i = 0; i < g.outHeight; i++, dst += rowStep, src += span) {
      if (g.strideWidth === 1) {
        heap.copyWithin(dst, src, src + span);
        continue;
      }
      for (let j = 0; j < g.outWidth; j++) {
        const from = src + j * co;
        heap.copyWithin(dst + j * g.strideWidth * co, from, from + co);
      }
    }
  }
}
