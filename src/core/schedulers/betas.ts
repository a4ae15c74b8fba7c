import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';

const f = Math.fround;

/**
 * Which PyTorch CPU kernel build to reproduce where results depend on it in the last bit:
 * - 'avx2': x86 with AVX2 (most desktops): 8-wide vectors, fused multiply-add
 * - 'avx512': x86 with AVX-512 (many servers, Zen 4): 16-wide vectors, fused multiply-add
 * - 'scalar': PyTorch's DEFAULT capability (other CPUs): 8-wide generic vectors, no fusing
 */
export type CpuProfile = 'avx2' | 'avx512' | 'scalar';

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)` on the CPU, bit for bit
 * (`aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp`): float32 `step = (end - start) / (steps - 1)`;
 * values below the halfway index count from `start`, the others back from `end`; the vectorised loop fills
 * two vectors per iteration, each `base + k * step` from its first element, and a scalar tail.
 * Checked against PyTorch 1.13 under each `ATEN_CPU_CAPABILITY`.
 */
export function linspaceF32(start: number, end: number, steps: number, profile: CpuProfile = 'avx2'): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  const fused = profile !== 'scalar';
  const madd = (a: number, b: number, c: number) => (fused ? f(a * b + c) : f(f(a * b) + c));
  const at = (i: number) => (i < halfway ? madd(step, i, s) : madd(-step, steps - i - 1, e));
  const width = profile === 'avx512' ? 16 : 8;
  let i = 0;
  for (; i <= steps - 2 * width; i += 2 * width) {
    for (const first of [i, i + width]) {
      const base = at(first);
      out[first] = base;
      for (let k = 1; k < width; k++) out[first + k] = madd(k, step, base);
    }
  }
  for (; i < steps; i++) out[i] = at(i);
  return out;
}

/**
 * `betas_for_alpha_bar(n, alpha_transform_type="cosine")` from diffusers `scheduling_ddpm.py`
 * (computed in float64, stored as float32), used by `beta_schedule="squaredcos_cap_v2"`.
 */
function cosineBetas(n: number, maxBeta = 0.999): Float32Array {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI * 0.5) ** 2;
  return Float32Array.from({ length: n }, (_, i) => Math.min(1 - alphaBar((i + 1) / n) / alphaBar(i / n), maxBeta));
}

/**
 * The noise schedule shared by diffusers' discrete schedulers: betas per `beta_schedule` and
 * `alphas_cumprod = torch.cumprod(1 - betas)` (float32 values, accumulated in double as PyTorch's CPU
 * `cumprod` does).
 * @returns float32 arrays of length `num_train_timesteps`.
 * @throws SchedulerConfigError for an unknown `beta_schedule`.
 */
export function noiseSchedule(config: SchedulerConfig, profile: CpuProfile = 'avx2'): { betas: Float32Array; alphasCumprod: Float32Array } {
  const raw = rawBetas(config, profile);
  const betas = config.rescale_betas_zero_snr ? rescaleZeroTerminalSnr(raw) : raw;
  const alphasCumprod = cumprodF32(betas.map((b) => f(1 - b)));
  // diffusers: close to 0 without being 0, so the first sigma is not infinite (the smallest fp16 subnormal)
  if (config.rescale_betas_zero_snr) alphasCumprod[alphasCumprod.length - 1] = 2 ** -24;
  return { betas, alphasCumprod };
}

/** `torch.cumprod` of float32 values on the CPU: accumulated in double, each output rounded to float32. */
function cumprodF32(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let acc = 1;
  values.forEach((v, i) => {
    acc *= v;
    out[i] = acc;
  });
  return out;
}

/**
 * diffusers `rescale_zero_terminal_snr` (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps
 * are Flawed", Algorithm 1): shifts and scales sqrt(alphas_cumprod) so the last timestep has zero SNR.
 */
function rescaleZeroTerminalSnr(betas: Float32Array): Float32Array {
  const sqrtBar = cumprodF32(betas.map((b) => f(1 - b))).map((a) => f(Math.sqrt(a)));
  const first = sqrtBar[0]!;
  const last = sqrtBar[sqrtBar.length - 1]!;
  const scale = f(first / f(first - last));
  const bar = sqrtBar.map((a) => f(f(f(a - last) * scale) ** 2));
  return bar.map((a, i) => (i === 0 ? f(1 - a) : f(1 - f(a / bar[i - 1]!))));
}

function rawBetas(config: SchedulerConfig, profile: CpuProfile): Float32Array {
  const n = config.num_train_timesteps ?? 1000;
  const start = config.beta_start ?? 0.0001;
  const end = config.beta_end ?? 0.02;
  if (config.trained_betas) {
    if (config.trained_betas.length !== n) {
      throw new SchedulerConfigError('trained_betas', `has ${config.trained_betas.length} values, expected ${n}`);
    }
    return Float32Array.from(config.trained_betas);
  }
  const schedule = pick(config, 'beta_schedule', ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const, 'linear');
  if (schedule === 'linear') return linspaceF32(start, end, n, profile);
  if (schedule === 'scaled_linear') return linspaceF32(Math.sqrt(start), Math.sqrt(end), n, profile).map((b) => f(b * b));
  return cosineBetas(n);
}

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in float32, the Karras-style sigma of each train timestep. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}
