import type { Float32Tensor } from '../tensor.ts';
import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { SchedulerConfig } from './config.ts';
import type { CpuProfile } from './betas.ts';

/** What `step` returns, as diffusers' `SchedulerOutput` (camelCased). */
export interface SchedulerStepOutput {
  /** x_{t-1}: the sample to feed to the next step. Same dims as the input sample. */
  prevSample: Float32Tensor;
  /** The scheduler's estimate of x_0 at this step (LCM: its boundary-condition `denoised`). */
  predOriginalSample: Float32Tensor;
}

/** Construction options shared by every scheduler. */
export interface SchedulerOptions {
  /** PyTorch CPU build whose last-bit arithmetic to reproduce (see `CpuProfile`); default 'avx2'. */
  cpuProfile?: CpuProfile;
}

/**
 * The diffusers scheduler interface in camelCase (`diffusers/schedulers/scheduling_utils.py`):
 * call `setTimesteps(n)` first, then for each `t` of `timesteps`: `scaleModelInput`, run the model, `step`.
 * Timesteps are in train-timestep units (0 .. num_train_timesteps - 1): float32 values for the sigma
 * schedulers (Euler, Euler ancestral), integers for DDIM, DPM-Solver and LCM.
 */
export interface Scheduler {
  readonly config: Readonly<SchedulerConfig>;
  /** Model evaluations per step (1 for every scheduler here). */
  readonly order: number;
  /** Inference timesteps, descending; empty until `setTimesteps`. */
  readonly timesteps: Float32Array;
  /**
   * Noise level of each inference timestep plus the final one, as `((1 - alpha_bar) / alpha_bar) ** 0.5`
   * (the Karras sigma). Schedulers that step in sigmas use them; DDIM and LCM report them.
   */
  readonly sigmas: Float32Array;
  /** Std of the initial noise: latents are drawn as N(0, 1) times this. */
  readonly initNoiseSigma: number;
  /** Whether `step` draws noise from the generator (ancestral and consistency samplers). */
  readonly stochastic: boolean;
  /** @throws RangeError for a step count outside [1, num_train_timesteps] (or the scheduler's own limit). */
  setTimesteps(numInferenceSteps: number): void;
  /** Sets the index of the first step to run (image-to-image starts part-way). */
  setBeginIndex(index: number): void;
  scaleModelInput(sample: Float32Tensor, timestep: number): Float32Tensor;
  /**
   * @param generator required by stochastic schedulers; they draw `randn(modelOutput.dims)` from it once per
   *   step, in the order diffusers does.
   * @throws RangeError when called past the last timestep; TypeError when a stochastic scheduler has no generator.
   */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput;
  /** Forward-diffuses clean samples to `timestep` (image-to-image). */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor;
}
