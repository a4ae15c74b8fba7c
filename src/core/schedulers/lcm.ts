import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { Float32Tensor } from '../tensor.ts';
import { DiscreteScheduler, f, mapTensor } from './base.ts';
import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { linspace } from './numpy.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/**
 * Latent consistency model multistep sampling (Luo et al. 2023, arXiv:2310.04378), as diffusers
 * `schedulers/scheduling_lcm.py`: timesteps chosen evenly from the `original_inference_steps` distillation
 * schedule, the consistency boundary condition `denoised = c_out * x0 + c_skip * x` with
 * `timestep_scaling`, and fresh noise between steps (not after the last).
 */
export class LCMScheduler extends DiscreteScheduler {
  readonly initNoiseSigma = 1;
  readonly stochastic = true;
  private readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';
  private readonly finalAlphaCumprod: number;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions = {}) {
    super(config, options);
    this.predictionType = pick(config, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
    this.finalAlphaCumprod = config['set_alpha_to_one'] === false ? this.alphasCumprod[0]! : 1;
  }

  private get originalSteps(): number {
    return Number(this.config['original_inference_steps'] ?? 50);
  }

  /** @throws RangeError when more steps are asked than the distillation schedule has. */
  setTimesteps(numInferenceSteps: number): void {
    const original = this.originalSteps;
    if (original > this.numTrainTimesteps) throw new SchedulerConfigError('original_inference_steps', `must be at most ${this.numTrainTimesteps}`);
    this.checkSteps(numInferenceSteps, original);
    const k = Math.floor(this.numTrainTimesteps / original);
    const origin = Array.from({ length: original }, (_, i) => (i + 1) * k - 1).reverse();
    const indices = linspace(0, origin.length, numInferenceSteps, false).map(Math.floor);
    const timesteps = indices.map((i) => origin[i]!);
    this.timesteps = Float32Array.from(timesteps);
    this.sigmas = Float32Array.from([...timesteps.map((t) => this.trainSigmas[t]!), 0]);
    this.resetCounters(numInferenceSteps);
  }

  scaleModelInput(sample: Float32Tensor): Float32Tensor {
    return sample;
  }

  /** Boundary-condition scalings with sigma_data = 0.5 (`get_scalings_for_boundary_condition_discrete`). */
  private scalings(timestep: number): [number, number] {
    const scaled = f(timestep * f(Number(this.config['timestep_scaling'] ?? 10)));
    const denom = f(f(scaled * scaled) + 0.25);
    return [f(0.25 / denom), f(scaled / f(Math.sqrt(denom)))];
  }

  /** @throws TypeError without a generator (noise is drawn between steps). */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.currentIndex(timestep);
    const t = this.timesteps[i]!;
    const prevT = i + 1 < this.timesteps.length ? this.timesteps[i + 1]! : t;
    const a = this.alphaProd(t, this.finalAlphaCumprod);
    const aPrev = this.alphaProd(prevT, this.finalAlphaCumprod);
    const sqrtA = f(Math.sqrt(a));
    const sqrtB = f(Math.sqrt(f(1 - a)));
    const [cSkip, cOut] = this.scalings(t);
    const m = modelOutput.data;
    let x0 = this.predictionType === 'epsilon'
      ? mapTensor(sample, (x, k) => f(x - f(sqrtB * m[k]!)) / sqrtA)
      : this.predictionType === 'v_prediction'
        ? mapTensor(sample, (x, k) => f(sqrtA * x) - f(sqrtB * m[k]!))
        : mapTensor(modelOutput, (x) => x);
    if (this.config['clip_sample']) {
      const range = Number(this.config['clip_sample_range'] ?? 1);
      x0 = mapTensor(x0, (x) => Math.min(Math.max(x, -range), range));
    }
    const denoised = mapTensor(x0, (x, k) => f(cOut * x) + f(cSkip * sample.data[k]!));
    let prevSample = denoised;
    if (i !== this.numInferenceSteps - 1) {
      const noise = this.noiseLike(modelOutput, generator);
      const sqrtAPrev = f(Math.sqrt(aPrev));
      const sqrtBPrev = f(Math.sqrt(f(1 - aPrev)));
      prevSample = mapTensor(denoised, (d, k) => f(sqrtAPrev * d) + f(sqrtBPrev * noise[k]!));
    }
    this.stepIndex = i + 1;
    return { prevSample, predOriginalSample: denoised };
  }

  /** `sqrt(alpha_bar_t) * x + sqrt(1 - alpha_bar_t) * noise`. */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor {
    const a = this.alphasCumprod[timestep]!;
    const sqrtA = f(Math.sqrt(a));
    const sqrtB = f(Math.sqrt(f(1 - a)));
    return mapTensor(originalSamples, (x, k) => f(sqrtA * x) + f(sqrtB * noise.data[k]!));
  }
}
