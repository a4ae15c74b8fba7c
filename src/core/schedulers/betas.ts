import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';

const f = Math.fround;

/**
 * `torch.linspace(start, end, steps, dtype=torch.float32)`: float32 step, and the symmetric formula of
 * `aten/src/ATen/native/cpu/RangeFactoriesKernel.cpp` (from the start below the halfway index, from the
 * end after it).
 */
export function linspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
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
export function noiseSchedule(config: SchedulerConfig): { betas: Float32Array; alphasCumprod: Float32Array } {
  const n = config.num_train_timesteps ?? 1000;
  const start = config.beta_start ?? 0.0001;
  const end = config.beta_end ?? 0.02;
  let betas: Float32Array;
  if (config.trained_betas) {
    if (config.trained_betas.length !== n) {
      throw new SchedulerConfigError('trained_betas', `has ${config.trained_betas.length} values, expected ${n}`);
    }
    betas = Float32Array.from(config.trained_betas);
  } else {
    const schedule = pick(config, 'beta_schedule', ['linear', 'scaled_linear', 'squaredcos_cap_v2'] as const, 'linear');
    if (schedule === 'linear') betas = linspaceF32(start, end, n);
    else if (schedule === 'scaled_linear') betas = linspaceF32(Math.sqrt(start), Math.sqrt(end), n).map((b) => f(b * b));
    else betas = cosineBetas(n);
  }
  const alphasCumprod = new Float32Array(n);
  let acc = 1;
  for (let i = 0; i < n; i++) {
    acc *= f(1 - betas[i]!);
    alphasCumprod[i] = acc;
  }
  return { betas, alphasCumprod };
}

/** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` in float32, the Karras-style sigma of each train timestep. */
export function trainSigmas(alphasCumprod: Float32Array): Float32Array {
  return alphasCumprod.map((a) => f(Math.sqrt(f(f(1 - a) / a))));
}

/** `np.interp(x, arange(len(fp)), fp)` in float64 (x within [0, len - 1]). */
export function interpIndex(x: number, fp: ArrayLike<number>): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  const slope = (fp[j + 1]! - fp[j]!) / 1;
  return slope * (x - j) + fp[j]!;
}
