import { logf, sincosf } from './avxMathfun.ts';
import { MT19937 } from './mt19937.ts';

const TWO_POW_24 = 2 ** 24;
const TWO_POW_53 = 2 ** 53;

/**
 * PyTorch's CPU generator (`torch.Generator("cpu").manual_seed(seed)`, i.e. `torch.manual_seed(seed)`),
 * reproducing `torch.randn(shape)` for float32 tensors bit for bit on the scalar code path.
 *
 * Sources (pytorch/pytorch):
 * - `aten/src/ATen/CPUGeneratorImpl.cpp`: `random()` is one mt19937 draw, `random64()` is two
 *   (first draw in the high word), and a cached second Box-Muller value for the double path.
 * - `aten/src/ATen/core/TransformationHelper.h` `uniform_real`: `(bits & (2^digits - 1)) / 2^digits`,
 *   24 digits from `random()` for float, 53 from `random64()` for double.
 * - `aten/src/ATen/core/DistributionsHelper.h` `normal_distribution<double>`: Box-Muller on two doubles,
 *   `r = sqrt(-2 log(1 - u2))`, `theta = 2 pi u1`, returns `r cos(theta)` and caches `r sin(theta)`.
 * - `aten/src/ATen/native/cpu/DistributionTemplates.h` `normal_kernel`: a contiguous float tensor of 16 or
 *   more elements is filled with float uniforms first, then transformed 16 at a time (`u1 = 1 - data[j]`,
 *   `u2 = data[j + 8]`, `radius = sqrt(-2 log(u1))`, `theta = 2 pi u2`, `data[j] = radius cos(theta)`,
 *   `data[j + 8] = radius sin(theta)`), the last 16 values being redrawn and recomputed when the size is not
 *   a multiple of 16. Smaller tensors take one `normal_distribution<double>` sample per element.
 *
 * The 16-at-a-time transform exists twice in PyTorch and the two differ in the last bits: x86 builds running
 * with AVX2 or AVX-512 use `normal_fill_16_AVX2` (float32 `avx_mathfun` log/sin/cos, see `avxMathfun.ts`),
 * other CPUs (ARM, Apple silicon) the scalar `normal_fill_16` (libm `logf`, `cosf`, `sinf`). `normalPath`
 * picks one; both are checked against PyTorch 1.13 outputs in the tests.
 */
export type NormalPath = 'avx2' | 'scalar';

export class TorchGenerator {
  private readonly engine: MT19937;
  private nextDoubleNormal: number | undefined;

  /**
   * @param seed as passed to `torch.manual_seed`; only `seed mod 2^32` seeds the engine, as in PyTorch.
   * @param normalPath which PyTorch CPU kernel to reproduce for tensors of 16 or more elements.
   */
  constructor(readonly seed: number, readonly normalPath: NormalPath = 'avx2') {
    this.engine = new MT19937(seed);
  }

  /** float uniform in [0, 1) from one draw, as `uniform_real_distribution<float>(0, 1)`. */
  private uniformFloat(): number {
    return Math.fround((this.engine.nextUint32() & (TWO_POW_24 - 1)) / TWO_POW_24);
  }

  /** double uniform in [0, 1) from two draws, as `uniform_real_distribution<double>(0, 1)`. */
  private uniformDouble(): number {
    const hi = this.engine.nextUint32();
    const lo = this.engine.nextUint32();
    // (hi << 32 | lo) & (2^53 - 1) = (hi & 0x1fffff) * 2^32 + lo
    return ((hi & 0x1fffff) * 0x1_0000_0000 + lo) / TWO_POW_53;
  }

  /** One standard normal sample from `normal_distribution<double>`, using and refilling the cache. */
  private normalDouble(): number {
    if (this.nextDoubleNormal !== undefined) {
      const cached = this.nextDoubleNormal;
      this.nextDoubleNormal = undefined;
      return cached;
    }
    const u1 = this.uniformDouble();
    const u2 = this.uniformDouble();
    const r = Math.sqrt(-2 * Math.log1p(-u2));
    const theta = 2 * Math.PI * u1;
    this.nextDoubleNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * `torch.randn(shape, generator=g, dtype=torch.float32)` on the CPU.
   * @param dims tensor shape, e.g. [1, 4, 128, 128] for SDXL latents at 1024x1024.
   * @returns float32 values, row-major, mean 0 and std 1.
   */
  randn(dims: readonly number[]): Float32Array {
    const size = dims.reduce((a, b) => a * b, 1);
    const out = new Float32Array(size);
    if (size < 16) {
      for (let i = 0; i < size; i++) out[i] = this.normalDouble();
      return out;
    }
    const fill16 = this.normalPath === 'avx2' ? normalFill16Avx2 : normalFill16Scalar;
    for (let i = 0; i < size; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= size; i += 16) fill16(out, i);
    if (size % 16 !== 0) {
      const start = size - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      fill16(out, start);
    }
    return out;
  }
}

const f = Math.fround;
const TWO_PI_F = f(2 * Math.PI);

/** `normal_fill_16_AVX2` with mean 0, std 1: float32 avx_mathfun log and sincos. */
function normalFill16Avx2(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = f(Math.sqrt(f(-2 * logf(u1))));
    const [sin, cos] = sincosf(f(TWO_PI_F * u2));
    data[offset + j] = radius * cos;
    data[offset + j + 8] = radius * sin;
  }
}

/** `normal_fill_16` with mean 0, std 1: libm float `logf`, a float `theta`, float `cosf` / `sinf`. */
function normalFill16Scalar(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = f(Math.sqrt(f(-2 * f(Math.log(u1)))));
    const theta = f(2 * Math.PI * u2);
    data[offset + j] = radius * f(Math.cos(theta));
    data[offset + j + 8] = radius * f(Math.sin(theta));
  }
}
