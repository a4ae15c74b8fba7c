import type { Float32Tensor } from '../tensor.ts';
import { f, mapTensor } from './base.ts';
import type { SchedulerConfig } from './config.ts';
import { SigmaScheduler } from './sigmaScheduler.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/**
 * Euler method sampler (Karras et al. 2022, Algorithm 2, s_churn = 0), as diffusers
 * `schedulers/scheduling_euler_discrete.py` (`EulerDiscreteScheduler`), the SDXL base default. Supports
 * `use_karras_sigmas` (with `sigma_min` / `sigma_max`), `interpolation_type` linear or log_linear,
 * `final_sigmas_type`, every `timestep_spacing` with `steps_offset`, and epsilon / v / sample prediction.
 * Sample arithmetic is float32 operation by operation, as in the PyTorch reference.
 */
export class EulerDiscreteScheduler extends SigmaScheduler {
  readonly stochastic = false;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions = {}) {
    super(config, options, { sigmaOptions: true });
  }

  /** Whether the model predicts the noise (the SDXL default), the case `stepScalars` serves. */
  get predictsEpsilon(): boolean {
    return this.predictionType === 'epsilon';
  }

  /**
   * The scalars of one epsilon-prediction `step`, for a step computed elsewhere (the GPU step graph of
   * `deviceDenoise.ts`, which does `step`'s float32 operations in the same order): `sigma`,
   * `dt = sigma_next - sigma`, and the next input's divisor `sqrt(sigma_next^2 + 1)` (`scaleModelInput`).
   * Advances the step index as `step` does.
   */
  stepScalars(timestep: number): { sigma: number; dt: number; nextInputDenominator: number } {
    const i = this.currentIndex(timestep);
    const sigma = this.sigmas[i]!;
    const next = this.sigmas[i + 1]!;
    this.stepIndex = i + 1;
    return { sigma, dt: f(next - sigma), nextInputDenominator: f(Math.sqrt(f(f(next * next) + 1))) };
  }

  /** x0 per `prediction_type`, d = (x - x0) / sigma, x' = x + d * (sigma_next - sigma). */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor): SchedulerStepOutput {
    const i = this.currentIndex(timestep);
    const sigma = this.sigmas[i]!;
    const dt = f(this.sigmas[i + 1]! - sigma);
    const pred = this.predictOriginal(modelOutput, sample, sigma);
    const prevSample = mapTensor(sample, (x, k) => x + f(f(f(x - pred.data[k]!) / sigma) * dt));
    this.stepIndex = i + 1;
    return { prevSample, predOriginalSample: pred };
  }
}
