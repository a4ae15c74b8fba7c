import type { TorchGenerator } from '../random/torchGenerator.ts';
import { float32, type Float32Tensor } from '../tensor.ts';
import { noiseSchedule, trainSigmas } from './betas.ts';
import { SchedulerConfigError, type SchedulerConfig } from './config.ts';
import type { Scheduler, SchedulerOptions, SchedulerStepOutput } from './types.ts';

export const f = Math.fround;

/**
 * What every diffusers discrete scheduler shares: the noise schedule (`alphas_cumprod`), the step counter
 * with `begin_index` for image-to-image, and diffusers' `index_for_timestep` (the second match when a
 * timestep repeats, so a schedule entered part-way never skips a sigma).
 */
export abstract class DiscreteScheduler implements Scheduler {
  readonly order = 1;
  abstract readonly stochastic: boolean;
  timesteps = new Float32Array(0);
  sigmas = new Float32Array(0);
  protected readonly alphasCumprod: Float32Array;
  /** `((1 - alphas_cumprod) / alphas_cumprod) ** 0.5` per train timestep, float32, ascending with t. */
  protected readonly trainSigmas: Float32Array;
  protected stepIndex: number | undefined;
  protected beginIndex: number | undefined;
  protected numInferenceSteps = 0;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(readonly config: Readonly<SchedulerConfig>, protected readonly options: SchedulerOptions = {}) {
    for (const key of ['thresholding'] as const) {
      if (config[key]) throw new SchedulerConfigError(key, 'is not supported (it is meant for pixel-space models, not SDXL latents)');
    }
    this.alphasCumprod = noiseSchedule(config, options.cpuProfile).alphasCumprod;
    this.trainSigmas = trainSigmas(this.alphasCumprod);
  }

  abstract get initNoiseSigma(): number;
  abstract setTimesteps(numInferenceSteps: number): void;
  abstract scaleModelInput(sample: Float32Tensor, timestep: number): Float32Tensor;
  abstract step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput;
  abstract addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor;

  protected get numTrainTimesteps(): number {
    return this.config.num_train_timesteps ?? 1000;
  }

  /** @throws RangeError naming `num_inference_steps` and its limit. */
  protected checkSteps(n: number, max = this.numTrainTimesteps): void {
    if (!Number.isInteger(n) || n < 1 || n > max) throw new RangeError(`num_inference_steps must be an integer in [1, ${max}], got ${n}`);
  }

  protected resetCounters(numInferenceSteps: number): void {
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndex = undefined;
    this.beginIndex = undefined;
  }

  setBeginIndex(index: number): void {
    this.beginIndex = index;
  }

  /**
   * Position of `timestep` in `timesteps` (diffusers `index_for_timestep`).
   * @param whenMissing 'last' (DPM-Solver) returns the last index for an unknown timestep; otherwise it throws.
   * @throws RangeError for a timestep that is not in the schedule.
   */
  protected indexForTimestep(timestep: number, whenMissing?: 'last'): number {
    const matches: number[] = [];
    this.timesteps.forEach((t, i) => t === f(timestep) && matches.push(i));
    const index = matches[matches.length > 1 ? 1 : 0];
    if (index !== undefined) return index;
    if (whenMissing === 'last') return this.timesteps.length - 1;
    throw new RangeError(`timestep ${timestep} is not in this schedule; call setTimesteps first`);
  }

  /** The step counter, initialised from `begin_index` or the timestep on first use (`_init_step_index`). */
  protected currentIndex(timestep: number, whenMissing?: 'last'): number {
    this.stepIndex ??= this.beginIndex ?? this.indexForTimestep(timestep, whenMissing);
    if (this.stepIndex >= this.timesteps.length) {
      throw new RangeError(`step ${this.stepIndex} is past the last of ${this.timesteps.length} timesteps`);
    }
    return this.stepIndex;
  }

  /** The index `add_noise` uses: before the first step (image-to-image) the begin index, after it the counter. */
  protected noiseIndex(timestep: number, whenMissing?: 'last'): number {
    if (this.beginIndex === undefined) return this.indexForTimestep(timestep, whenMissing);
    return this.stepIndex ?? this.beginIndex;
  }

  /** One `randn_tensor(shape, generator)` draw for a stochastic step. */
  protected noiseLike(t: Float32Tensor, generator: TorchGenerator | undefined): Float32Array {
    if (!generator) throw new TypeError(`${this.constructor.name} draws noise at every step: pass the generator`);
    return generator.randn(t.dims);
  }

  /** `alphas_cumprod[t]`, or `final` for t < 0 (DDIM's `final_alpha_cumprod`). */
  protected alphaProd(t: number, final: number): number {
    return t >= 0 ? this.alphasCumprod[t]! : final;
  }
}

/** Elementwise float32 map over a tensor, keeping its dims. */
export function mapTensor(t: Float32Tensor, fn: (x: number, i: number) => number): Float32Tensor {
  const out = new Float32Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = fn(t.data[i]!, i);
  return float32(out, t.dims);
}
