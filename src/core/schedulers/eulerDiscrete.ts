import { roundHalfEven } from '../numeric.ts';
import { float32, type Float32Tensor } from '../tensor.ts';
import { interpIndex, noiseSchedule, trainSigmas } from './betas.ts';
import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerStepOutput } from './types.ts';

const f = Math.fround;

/**
 * Inference timesteps for `timestep_spacing` (diffusers `EulerDiscreteScheduler.set_timesteps`), float32.
 * - linspace: `np.linspace(0, T - 1, n)[::-1]`
 * - leading:  `(arange(n) * (T // n)).round()[::-1] + steps_offset`
 * - trailing: `arange(T, 0, -T / n).round() - 1`
 * @throws SchedulerConfigError for an unknown spacing.
 */
export function spacedTimesteps(config: SchedulerConfig, n: number): Float32Array {
  const T = config.num_train_timesteps ?? 1000;
  const spacing = pick(config, 'timestep_spacing', ['linspace', 'leading', 'trailing'] as const, 'linspace');
  if (spacing === 'linspace') {
    // np.linspace in float64 (j * step, the endpoint set to exactly T - 1), reversed, then float32.
    const step = (T - 1) / (n - 1 || 1);
    return Float32Array.from({ length: n }, (_, i) => (i === 0 && n > 1 ? T - 1 : (n - 1 - i) * step));
  }
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    const offset = config.steps_offset ?? 0;
    return Float32Array.from({ length: n }, (_, i) => Math.round((n - 1 - i) * ratio) + offset);
  }
  const ratio = T / n;
  const count = Math.ceil(T / ratio);
  return Float32Array.from({ length: count }, (_, k) => roundHalfEven(T - k * ratio) - 1);
}


/**
 * Karras et al. (2022) sigmas, rho = 7, between the schedule's min and max
 * (diffusers `EulerDiscreteScheduler._convert_to_karras`).
 */
export function karrasSigmas(inSigmas: ArrayLike<number>, n: number): Float64Array {
  const sigmaMin = inSigmas[inSigmas.length - 1]!;
  const sigmaMax = inSigmas[0]!;
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return Float64Array.from({ length: n }, (_, i) => (maxInv + (i / (n - 1 || 1)) * (minInv - maxInv)) ** rho);
}

/**
 * Maps a sigma back to a (fractional) train timestep by interpolating in log-sigma
 * (diffusers `EulerDiscreteScheduler._sigma_to_t`). `logSigmas` ascend with the train timestep.
 */
export function sigmaToT(sigma: number, logSigmas: Float64Array): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const high = low + 1;
  const lo = logSigmas[low]!;
  const hi = logSigmas[high]!;
  let w = (lo - logSigma) / (lo - hi);
  w = Math.min(Math.max(w, 0), 1);
  return (1 - w) * low + w * high;
}

/**
 * Euler method sampler of Karras et al. (2022), Algorithm 2 with s_churn = 0 by default, as in
 * diffusers `schedulers/scheduling_euler_discrete.py` (`EulerDiscreteScheduler`), the SDXL base default.
 * Arithmetic on samples is float32 step by step, as the PyTorch reference does.
 */
export class EulerDiscreteScheduler implements Scheduler {
  readonly order = 1;
  timesteps = new Float32Array(0);
  sigmas: Float32Array;
  private readonly alphasCumprod: Float32Array;
  private readonly trainSigmas: Float32Array;
  private stepIndex: number | undefined;
  private beginIndex: number | undefined;
  private readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';

  /** @throws SchedulerConfigError for keys with unsupported values. */
  constructor(readonly config: Readonly<SchedulerConfig>) {
    this.alphasCumprod = noiseSchedule(config).alphasCumprod;
    this.trainSigmas = trainSigmas(this.alphasCumprod);
    this.predictionType = pick(config, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
    pick(config, 'interpolation_type', ['linear'] as const, 'linear');
    pick(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero');
    if (config['timestep_type'] === 'continuous') throw new SchedulerConfigError('timestep_type', '"continuous" is not supported');
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    const max = this.sigmas.reduce((m, s) => Math.max(m, s), 0);
    const spacing = this.config.timestep_spacing ?? 'linspace';
    return spacing === 'linspace' || spacing === 'trailing' ? max : f(Math.sqrt(f(f(max * max) + 1)));
  }

  /** @throws RangeError when `numInferenceSteps` is not a positive integer up to num_train_timesteps. */
  setTimesteps(numInferenceSteps: number): void {
    const T = this.config.num_train_timesteps ?? 1000;
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > T) {
      throw new RangeError(`num_inference_steps must be an integer in [1, ${T}], got ${numInferenceSteps}`);
    }
    let timesteps = Array.from(spacedTimesteps(this.config, numInferenceSteps));
    let sigmas = timesteps.map((t) => interpIndex(t, this.trainSigmas));
    if (this.config.use_karras_sigmas) {
      const logSigmas = Float64Array.from(this.trainSigmas, (s) => Math.log(s));
      sigmas = Array.from(karrasSigmas(sigmas, numInferenceSteps));
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
    }
    const last = this.config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = Float32Array.from(timesteps);
    this.stepIndex = undefined;
    this.beginIndex = undefined;
  }

  setBeginIndex(index: number): void {
    this.beginIndex = index;
  }

  /** Position of `timestep` in `timesteps` (the second match when it repeats, as diffusers). */
  private indexForTimestep(timestep: number): number {
    const matches: number[] = [];
    this.timesteps.forEach((t, i) => t === f(timestep) && matches.push(i));
    const index = matches[matches.length > 1 ? 1 : 0];
    if (index === undefined) throw new RangeError(`timestep ${timestep} is not in this schedule; call setTimesteps first`);
    return index;
  }

  private currentIndex(timestep: number): number {
    this.stepIndex ??= this.beginIndex ?? this.indexForTimestep(timestep);
    return this.stepIndex;
  }

  /** `sample / sqrt(sigma^2 + 1)`: input scaling for the denoiser at this step. */
  scaleModelInput(sample: Float32Tensor, timestep: number): Float32Tensor {
    const sigma = this.sigmas[this.currentIndex(timestep)]!;
    const denom = f(Math.sqrt(f(f(sigma * sigma) + 1)));
    return float32(sample.data.map((x) => f(x / denom)), sample.dims);
  }

  /**
   * One Euler step from sigma_i to sigma_{i+1}: x0 = prediction per `prediction_type`,
   * d = (x - x0) / sigma, x' = x + d * (sigma_{i+1} - sigma).
   * @throws RangeError when called more times than there are timesteps.
   */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor): SchedulerStepOutput {
    const i = this.currentIndex(timestep);
    if (i >= this.timesteps.length) throw new RangeError(`step ${i} is past the last of ${this.timesteps.length} timesteps`);
    const sigma = this.sigmas[i]!;
    const dt = f(this.sigmas[i + 1]! - sigma);
    const m = modelOutput.data;
    const x = sample.data;
    const pred = new Float32Array(x.length);
    if (this.predictionType === 'epsilon') {
      for (let k = 0; k < x.length; k++) pred[k] = f(x[k]! - f(sigma * m[k]!));
    } else if (this.predictionType === 'v_prediction') {
      const s2 = f(f(sigma * sigma) + 1);
      const cOut = f(-sigma / f(Math.sqrt(s2)));
      for (let k = 0; k < x.length; k++) pred[k] = f(f(m[k]! * cOut) + f(x[k]! / s2));
    } else {
      pred.set(m);
    }
    const prev = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) {
      const derivative = f(f(x[k]! - pred[k]!) / sigma);
      prev[k] = f(x[k]! + f(derivative * dt));
    }
    this.stepIndex = i + 1;
    return { prevSample: float32(prev, sample.dims), predOriginalSample: float32(pred, sample.dims) };
  }

  /** `original + noise * sigma(t)` (diffusers `EulerDiscreteScheduler.add_noise`). */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor {
    const index = this.beginIndex ?? this.indexForTimestep(timestep);
    const sigma = this.sigmas[index]!;
    return float32(originalSamples.data.map((x, k) => f(x + f(noise.data[k]! * sigma))), originalSamples.dims);
  }
}
