import type { Float32Tensor } from '../tensor.ts';
import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { SchedulerConfig } from './config.ts';

/** What `step` returns, as diffusers' `SchedulerOutput` (camelCased). */
export interface SchedulerStepOutput {
  /** x_{t-1}: the sample to feed to the next step. Same dims as the input sample. */
  prevSample: Float32Tensor;
  /** The model's estimate of x_0 at this step. */
  predOriginalSample: Float32Tensor;
}

/**
 * The diffusers scheduler interface in camelCase (`diffusers/schedulers/scheduling_utils.py`):
 * call `setTimesteps(n)` first, then for each `t` of `timesteps`: `scaleModelInput`, run the model, `step`.
 * Timesteps are float32 values in train-timestep units (0 .. num_train_timesteps - 1).
 */
export interface Scheduler {
  readonly config: Readonly<SchedulerConfig>;
  /** Model evaluations per step (1 for single-step solvers). */
  readonly order: number;
  /** Inference timesteps, descending; empty until `setTimesteps`. */
  readonly timesteps: Float32Array;
  /** Noise levels per inference step plus the final one (length timesteps + 1 for sigma schedulers). */
  readonly sigmas: Float32Array;
  /** Std of the initial noise: latents are drawn as N(0, 1) times this. */
  readonly initNoiseSigma: number;
  setTimesteps(numInferenceSteps: number): void;
  /** Sets the index of the first step to run (image-to-image starts part-way). */
  setBeginIndex(index: number): void;
  scaleModelInput(sample: Float32Tensor, timestep: number): Float32Tensor;
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput;
  /** Forward-diffuses clean samples to `timestep` (image-to-image). */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor;
}
