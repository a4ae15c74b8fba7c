import { float32, type Float32Tensor } from '../tensor.ts';
import { linspaceF32 } from './betas.ts';
import { DiscreteScheduler, f, mapTensor } from './base.ts';
import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { arange, interpIndex, linspace, roundHalfEven } from './numpy.ts';
import type { SchedulerOptions } from './types.ts';

/**
 * Inference timesteps for `timestep_spacing`, as the Euler schedulers compute them (float32):
 * - linspace: `np.linspace(0, T - 1, n)[::-1]`
 * - leading:  `(arange(n) * (T // n)).round()[::-1] + steps_offset`
 * - trailing: `arange(T, 0, -T / n).round() - 1`
 * Source: diffusers `EulerDiscreteScheduler.set_timesteps`.
 * @throws SchedulerConfigError for an unknown spacing.
 */
export function spacedTimesteps(config: Readonly<SchedulerConfig>, n: number): number[] {
  const T = config.num_train_timesteps ?? 1000;
  const spacing = pick(config, 'timestep_spacing', ['linspace', 'leading', 'trailing'] as const, 'linspace');
  if (spacing === 'linspace') return linspace(0, T - 1, n).reverse().map(f);
  if (spacing === 'leading') {
    const ratio = Math.floor(T / n);
    return Array.from({ length: n }, (_, i) => roundHalfEven((n - 1 - i) * ratio) + (config.steps_offset ?? 0));
  }
  return arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
}

/**
 * Karras et al. (2022) sigmas with rho = 7 between `sigmaMin` and `sigmaMax` (float64), as k-diffusion's
 * `get_sigmas_karras` and diffusers `_convert_to_karras`.
 */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, n: number): number[] {
  const rho = 7;
  const minInv = sigmaMin ** (1 / rho);
  const maxInv = sigmaMax ** (1 / rho);
  return linspace(0, 1, n).map((ramp) => (maxInv + ramp * (minInv - maxInv)) ** rho);
}

/**
 * Fractional train timestep of a sigma by interpolating in log-sigma (diffusers `_sigma_to_t`).
 * @param logSigmas `np.log` of the train sigmas (float32 values), ascending with the timestep.
 */
export function sigmaToT(sigma: number, logSigmas: ArrayLike<number>): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lo = logSigmas[low]!;
  const hi = logSigmas[low + 1]!;
  const w = Math.min(Math.max((lo - logSigma) / (lo - hi), 0), 1);
  return (1 - w) * low + w * (low + 1);
}

/** Which parts of diffusers' sigma schedule a scheduler class supports. */
export interface SigmaFeatures {
  /** `use_karras_sigmas`, `interpolation_type="log_linear"`, `final_sigmas_type` (EulerDiscreteScheduler). */
  sigmaOptions: boolean;
}

/**
 * The schedulers that step in sigma (Karras et al. 2022 notation): Euler and Euler ancestral. They share
 * the timestep and sigma schedule, the input scaling `x / sqrt(sigma^2 + 1)`, `init_noise_sigma` and
 * `add_noise(x, n, t) = x + n * sigma(t)` (diffusers `scheduling_euler_discrete.py`,
 * `scheduling_euler_ancestral_discrete.py`).
 */
export abstract class SigmaScheduler extends DiscreteScheduler {
  protected readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions, private readonly features: SigmaFeatures) {
    super(config, options);
    this.predictionType = pick(config, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
    if (config['timestep_type'] === 'continuous') throw new SchedulerConfigError('timestep_type', '"continuous" is not supported');
    for (const key of ['use_exponential_sigmas', 'use_beta_sigmas'] as const) {
      if (config[key]) throw new SchedulerConfigError(key, 'is not supported (use use_karras_sigmas)');
    }
    if (features.sigmaOptions) {
      pick(config, 'interpolation_type', ['linear', 'log_linear'] as const, 'linear');
      pick(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero');
    }
    this.sigmas = Float32Array.from([...this.trainSigmas].reverse().concat(0));
  }

  get initNoiseSigma(): number {
    const max = this.sigmas.reduce((m, s) => Math.max(m, s), 0);
    const spacing = this.config.timestep_spacing ?? 'linspace';
    return spacing === 'linspace' || spacing === 'trailing' ? max : f(Math.sqrt(f(f(max * max) + 1)));
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkSteps(numInferenceSteps);
    const n = numInferenceSteps;
    let timesteps = spacedTimesteps(this.config, n);
    const train = this.trainSigmas;
    let sigmas: number[];
    const options = this.features.sigmaOptions;
    if (options && this.config.interpolation_type === 'log_linear') {
      const logs = linspaceF32(f(Math.log(train[train.length - 1]!)), f(Math.log(train[0]!)), n + 1, this.options.cpuProfile);
      sigmas = Array.from(logs, (x) => f(Math.exp(x)));
    } else {
      sigmas = timesteps.map((t) => interpIndex(t, train));
    }
    if (options && this.config.use_karras_sigmas) {
      const logSigmas = Array.from(train, (s) => f(Math.log(s)));
      sigmas = karrasSigmas(this.config.sigma_min ?? sigmas[sigmas.length - 1]!, this.config.sigma_max ?? sigmas[0]!, n);
      timesteps = sigmas.map((s) => f(sigmaToT(s, logSigmas)));
    }
    const last = options && this.config.final_sigmas_type === 'sigma_min' ? train[0]! : 0;
    this.sigmas = Float32Array.from([...sigmas, last]);
    this.timesteps = Float32Array.from(timesteps);
    this.resetCounters(n);
  }

  /** `sample / sqrt(sigma^2 + 1)`: input scaling for the denoiser at this step. */
  scaleModelInput(sample: Float32Tensor, timestep: number): Float32Tensor {
    const sigma = this.sigmas[this.currentIndex(timestep)]!;
    const denom = f(Math.sqrt(f(f(sigma * sigma) + 1)));
    return mapTensor(sample, (x) => x / denom);
  }

  /** x0 from the model output per `prediction_type` (the part of `step` the Euler samplers share). */
  protected predictOriginal(modelOutput: Float32Tensor, sample: Float32Tensor, sigma: number): Float32Tensor {
    if (this.predictionType === 'sample') return float32(Float32Array.from(modelOutput.data), modelOutput.dims);
    if (this.predictionType === 'epsilon') return mapTensor(sample, (x, k) => x - f(sigma * modelOutput.data[k]!));
    const s2 = f(f(sigma * sigma) + 1);
    const cOut = f(-sigma / f(Math.sqrt(s2)));
    return mapTensor(sample, (x, k) => f(modelOutput.data[k]! * cOut) + f(x / s2));
  }

  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor {
    const sigma = this.sigmas[this.noiseIndex(timestep)]!;
    return mapTensor(originalSamples, (x, k) => x + f(noise.data[k]! * sigma));
  }
}
