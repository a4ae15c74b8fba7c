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
 *   more elements is filled with float uniforms first, then transformed 16 at a time by `normal_fill_16`
 *   (`u1 = 1 - data[j]`, `u2 = data[j + 8]`, `radius = sqrt(-2 logf(u1))`, `theta = 2 pi u2` in double),
 *   the last 16 values being redrawn and recomputed when the size is not a multiple of 16. Smaller tensors
 *   take one `normal_distribution<double>` sample per element, rounded to float.
 *
 * PyTorch builds with AVX2 (but not AVX-512) dispatch use a vectorised `normal_fill_16_AVX2` whose
 * float32 log/sin/cos approximations can differ from this scalar path in the last bit of a value.
 */
export class TorchGenerator {
  private readonly engine: MT19937;
  private nextDoubleNormal: number | undefined;

  /** @param seed as passed to `torch.manual_seed`; only `seed mod 2^32` seeds the engine, as in PyTorch. */
  constructor(readonly seed: number) {
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
    for (let i = 0; i < size; i++) out[i] = this.uniformFloat();
    for (let i = 0; i + 16 <= size; i += 16) normalFill16(out, i);
    if (size % 16 !== 0) {
      const start = size - 16;
      for (let i = 0; i < 16; i++) out[start + i] = this.uniformFloat();
      normalFill16(out, start);
    }
    return out;
  }
}

/** `normal_fill_16` with mean 0, std 1: float log, double trigonometry, float result. */
function normalFill16(data: Float32Array, offset: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = Math.fround(1 - data[offset + j]!);
    const u2 = data[offset + j + 8]!;
    const radius = Math.fround(Math.sqrt(Math.fround(-2 * Math.fround(Math.log(u1)))));
    const theta = 2 * Math.PI * u2;
    data[offset + j] = radius * Math.cos(theta);
    data[offset + j + 8] = radius * Math.sin(theta);
  }
}
