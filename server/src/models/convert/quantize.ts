/**
 * Weight quantization for the browser variants, in the layouts onnxruntime's operators read:
 *
 * - `MatMulNBits` (com.microsoft, onnxruntime `docs/ContribOperators.md`): the MatMul weight `W[K, N]` is
 *   quantized per column in blocks of `block_size` along K, asymmetric with the zero point in range (as
 *   MLAS `MlasQuantizeBlockwise`): `scale = (max - min) / (2^bits - 1)` over the block with `min <= 0 <= max`,
 *   `q = round(w / scale) + zp`. `B` is uint8 `[N, n_blocks, block_size * bits / 8]` (4-bit: two values per
 *   byte, the first in the low nibble); `scales` is `[N * n_blocks]`; `zero_points` is uint8
 *   `[N * ceil(n_blocks * bits / 8)]` (4-bit: packed likewise). A block past K is padded with zeros.
 * - `DequantizeLinear` -> `Conv` (ONNX opset 13): the Conv weight `[O, I, kh, kw]` as int8, symmetric per
 *   output channel (`axis = 0`): `scale_o = max |w_o| / 127`, `q = round(w / scale_o)` in [-127, 127].
 */
import { fromHalfBits, toHalfBits } from '../../../../src/core/tensor.ts';

/** Rounds a scale to what an fp16 tensor will hold, so the codes are computed against the stored scale. */
const asHalf = (x: number) => fromHalfBits(toHalfBits(x));

export interface MatMulNBitsWeights {
  /** `[N, nBlocks, blockSize * bits / 8]` uint8. */
  packed: Uint8Array;
  /** `[N * nBlocks]`, already rounded to fp16 when `halfScales`. */
  scales: Float32Array;
  /** `[N * ceil(nBlocks * bits / 8)]` uint8. */
  zeroPoints: Uint8Array;
  nBlocks: number;
}

/**
 * Quantizes `w` (row-major `[K, N]`, as a MatMul's second input) for MatMulNBits.
 * @param halfScales the scales will be stored as float16 (q4f16): codes are chosen against the rounded scale.
 */
export function quantizeMatMulNBits(w: Float32Array, K: number, N: number, bits: 4 | 8, blockSize: number, halfScales: boolean): MatMulNBitsWeights {
  if (w.length !== K * N) throw new RangeError(`weight has ${w.length} values, expected ${K} x ${N}`);
  const nBlocks = Math.ceil(K / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const levels = 2 ** bits - 1;
  const packed = new Uint8Array(N * nBlocks * blobSize);
  const scales = new Float32Array(N * nBlocks);
  const zpRow = Math.ceil((nBlocks * bits) / 8);
  const zeroPoints = new Uint8Array(N * zpRow);
  const codes = new Uint8Array(blockSize);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < nBlocks; b++) {
      const k0 = b * blockSize;
      const k1 = Math.min(k0 + blockSize, K);
      let min = 0;
      let max = 0;
      for (let k = k0; k < k1; k++) {
        const v = w[k * N + n]!;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      let scale = (max - min) / levels;
      if (halfScales) scale = asHalf(scale);
      if (!(scale > 0)) scale = 1; // an all-zero block
      const zp = Math.min(levels, Math.max(0, Math.round(-min / scale)));
      for (let j = 0; j < blockSize; j++) {
        const k = k0 + j;
        const q = k < k1 ? Math.round(w[k * N + n]! / scale) + zp : zp;
        codes[j] = q < 0 ? 0 : q > levels ? levels : q;
      }
      const blob = (n * nBlocks + b) * blobSize;
      if (bits === 8) packed.set(codes, blob);
      else for (let j = 0; j < blockSize; j += 2) packed[blob + j / 2] = codes[j]! | (codes[j + 1]! << 4);
      scales[n * nBlocks + b] = scale;
      if (bits === 8) zeroPoints[n * zpRow + b] = zp;
      else zeroPoints[n * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
    }
  }
  return { packed, scales, zeroPoints, nBlocks };
}

/** The `[K, N]` weight MatMulNBits computes with (for tests and error reports). */
export function dequantizeMatMulNBits(q: MatMulNBitsWeights, K: number, N: number, bits: 4 | 8, blockSize: number): Float32Array {
  const out = new Float32Array(K * N);
  const blobSize = (blockSize * bits) / 8;
  const zpRow = Math.ceil((q.nBlocks * bits) / 8);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < q.nBlocks; b++) {
      const scale = q.scales[n * q.nBlocks + b]!;
      const zp = bits === 8 ? q.zeroPoints[n * zpRow + b]! : (q.zeroPoints[n * zpRow + (b >> 1)]! >> ((b & 1) * 4)) & 15;
      const blob = (n * q.nBlocks + b) * blobSize;
      for (let j = 0; j < blockSize && b * blockSize + j < K; j++) {
        const code = bits === 8 ? q.packed[blob + j]! : (q.packed[blob + (j >> 1)]! >> ((j & 1) * 4)) & 15;
        out[(b * blockSize + j) * N + n] = (code - zp) * scale;
      }
    }
  }
  return out;
}

/** int8 codes and per-output-channel scales of a Conv weight `[O, ...]` for DequantizeLinear (axis 0). */
export function quantizeConvInt8(w: Float32Array, outChannels: number): { codes: Int8Array; scales: Float32Array } {
  const per = w.length / outChannels;
  const codes = new Int8Array(w.length);
  const scales = new Float32Array(outChannels);
  for (let o = 0; o < outChannels; o++) {
    let absMax = 0;
    for (let i = o * per; i < (o + 1) * per; i++) absMax = Math.max(absMax, Math.abs(w[i]!));
    const scale = absMax > 0 ? Math.fround(absMax / 127) : 1;
    scales[o] = scale;
    for (let i = o * per; i < (o + 1) * per; i++) codes[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scale)));
  }
  return { codes, scales };
}
