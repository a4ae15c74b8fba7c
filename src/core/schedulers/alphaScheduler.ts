import type { Float32Tensor } from '../tensor.ts';
import { DiscreteScheduler, f, mapTensor } from './base.ts';
import { pick, type SchedulerConfig } from './config.ts';
import type { SchedulerOptions } from './types.ts';

/**
 * The schedulers that step in the DDPM parameterisation `x_t = sqrt(alpha_bar) x0 + sqrt(1 - alpha_bar) eps`
 * (DDIM and LCM): `set_alpha_to_one`, x0 from the model output per `prediction_type`, `clip_sample`, and
 * `add_noise` (diffusers `scheduling_ddim.py`, `scheduling_lcm.py`).
 */
export abstract class AlphaScheduler extends DiscreteScheduler {
  readonly initNoiseSigma = 1;
  protected readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';
  /** alpha_bar before the first train timestep: 1 with `set_alpha_to_one`, else `alphas_cumprod[0]`. */
  protected readonly finalAlphaCumprod: number;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions) {
    super(config, options);
    this.predictionType = pick(config, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
    this.finalAlphaCumprod = config['set_alpha_to_one'] === false ? this.alphasCumprod[0]! : 1;
  }

  scaleModelInput(sample: Float32Tensor): Float32Tensor {
    return sample;
  }

  /** `sqrt(alpha_bar)`, `sqrt(1 - alpha_bar)` in float32. */
  protected static roots(alphaBar: number): [number, number] {
    return [f(Math.sqrt(alphaBar)), f(Math.sqrt(f(1 - alphaBar)))];
  }

  /** x0 per `prediction_type` (before clipping). */
  protected predictOriginal(modelOutput: Float32Tensor, sample: Float32Tensor, alphaBar: number): Float32Tensor {
    const [sqrtA, sqrtB] = AlphaScheduler.roots(alphaBar);
    const m = modelOutput.data;
    if (this.predictionType === 'epsilon') return mapTensor(sample, (x, k) => f(x - f(sqrtB * m[k]!)) / sqrtA);
    if (this.predictionType === 'v_prediction') return mapTensor(sample, (x, k) => f(sqrtA * x) - f(sqrtB * m[k]!));
    return mapTensor(modelOutput, (x) => x);
  }

  /** `clamp(x0, -clip_sample_range, clip_sample_range)` when `clip_sample` is set. */
  protected clipSample(x0: Float32Tensor): Float32Tensor {
    if (!this.config['clip_sample']) return x0;
    const range = Number(this.config['clip_sample_range'] ?? 1);
    return mapTensor(x0, (x) => Math.min(Math.max(x, -range), range));
  }

  /** `sqrt(alpha_bar_t) * x + sqrt(1 - alpha_bar_t) * noise` (forward diffusion to `timestep`). */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor {
    const [sqrtA, sqrtB] = AlphaScheduler.roots(this.alphasCumprod[timestep]!);
    return mapTensor(originalSamples, (x, k) => f(sqrtA * x) + f(sqrtB * noise.data[k]!));
  }
}
