import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { Float32Tensor } from '../tensor.ts';
import { AlphaScheduler } from './alphaScheduler.ts';
import { f, mapTensor } from './base.ts';
import { SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { linspace } from './numpy.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/**
 * Latent consistency model multistep sampling (Luo et al. 2023, arXiv:2310.04378), as diffusers
 * `schedulers/scheduling_lcm.py`: timesteps chosen evenly from the `original_inference_steps` distillation
 * schedule, the consistency boundary condition `denoised = c_out * x0 + c_skip * x` with
 * `timestep_scaling`, and fresh noise between steps (not after the last).
 */
export class LCMScheduler extends AlphaScheduler {
  readonly stochastic = true;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions = {}) {
    super(config, options);
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
    const [cSkip, cOut] = this.scalings(t);
    const x0 = this.clipSample(this.predictOriginal(modelOutput, sample, a));
    const denoised = mapTensor(x0, (x, k) => f(cOut * x) + f(cSkip * sample.data[k]!));
    let prevSample = denoised;
    if (i !== this.numInferenceSteps - 1) {
      const noise = this.noiseLike(modelOutput, generator);
      const [sqrtAPrev, sqrtBPrev] = AlphaScheduler.roots(aPrev);
      prevSample = mapTensor(denoised, (d, k) => f(sqrtAPrev * d) + f(sqrtBPrev * noise[k]!));
    }
    this.stepIndex = i + 1;
    return { prevSample, predOriginalSample: denoised };
  }
}
