/**
 * float32 `log`, `sin` and `cos` exactly as `avx_mathfun.h` computes them (Giovanni Garberoglio's AVX port of
 * Julien Pommier's `sse_mathfun`, Cephes polynomials; zlib licence), which PyTorch's AVX2 CPU kernel
 * `normal_fill_16_AVX2` uses for `torch.randn`. Every operation is rounded to float32 as the vector
 * instructions do, and multiply-adds are fused as GCC compiles them for AVX2 + FMA builds.
 */
const f = Math.fround;
const fma = (a: number, b: number, c: number) => f(a * b + c);

const scratch = new DataView(new ArrayBuffer(4));
const bitsOf = (x: number) => (scratch.setFloat32(0, x), scratch.getInt32(0));
const ofBits = (i: number) => (scratch.setInt32(0, i), scratch.getFloat32(0));

const MIN_NORM_POS = ofBits(0x00800000);
const SQRTHF = f(0.707106781186547524);
const LOG_P = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1].map(f);
const LOG_Q1 = f(-2.1219444e-4);
const LOG_Q2 = f(0.693359375);

/** `log256_ps` for one lane: natural log of a positive float32. */
export function logf(value: number): number {
  let x = Math.max(f(value), MIN_NORM_POS);
  const exponent = (bitsOf(x) >>> 23) - 0x7f;
  x = ofBits((bitsOf(x) & ~0x7f800000) | 0x3f000000); // mantissa in [0.5, 1)
  let e = f(exponent + 1);
  const below = x < SQRTHF;
  const tmp = below ? x : 0;
  x = f(x - 1);
  if (below) e = f(e - 1);
  x = f(x + tmp);
  const z = f(x * x);
  let y = LOG_P[0]!;
  for (let i = 1; i < LOG_P.length; i++) y = fma(y, x, LOG_P[i]!);
  // GCC fuses the first of two products that meet in one addition: (y x) z + (e q1)
  y = fma(f(y * x), z, f(e * LOG_Q1));
  y = fma(-z, 0.5, y);
  x = f(x + y);
  return fma(e, LOG_Q2, x);
}

const FOPI = f(1.27323954473516); // 4 / pi
const DP = [-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8].map(f);
const SIN_P = [-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1].map(f);
const COS_P = [2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2].map(f);

/** `sincos256_ps` for one lane: [sin(x), cos(x)] of a float32. */
export function sincosf(value: number): [number, number] {
  let x = Math.abs(f(value));
  let j = Math.trunc(f(x * FOPI));
  j = (j + 1) & ~1;
  const y = f(j);
  const polynomialSwap = (j & 2) === 0;
  for (const dp of DP) x = fma(y, dp, x);
  const sinNegative = (value < 0) !== ((j & 4) !== 0);
  const cosNegative = (~(j - 2) & 4) !== 0;
  const z = f(x * x);
  let yc = COS_P[0]!;
  yc = fma(yc, z, COS_P[1]!);
  yc = fma(yc, z, COS_P[2]!);
  yc = fma(f(yc * z), z, -f(z * 0.5));
  yc = f(yc + 1);
  let ys = SIN_P[0]!;
  ys = fma(ys, z, SIN_P[1]!);
  ys = fma(ys, z, SIN_P[2]!);
  ys = f(ys * z);
  ys = fma(ys, x, x);
  const s = polynomialSwap ? ys : yc;
  const c = polynomialSwap ? yc : ys;
  return [sinNegative ? -s : s, cosNegative ? -c : c];
}
