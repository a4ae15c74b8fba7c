import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { Float32Tensor } from '../tensor.ts';
import { f, mapTensor } from './base.ts';
import type { SchedulerConfig } from './config.ts';
import { SigmaScheduler } from './sigmaScheduler.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/**
 * Ancestral Euler sampler ("Euler a"), as diffusers `schedulers/scheduling_euler_ancestral_discrete.py`:
 * each step goes down to `sigma_down` with an Euler step and adds fresh noise of std `sigma_up`, where
 * `sigma_up = sqrt(sigma_next^2 (sigma^2 - sigma_next^2) / sigma^2)` and
 * `sigma_down = sqrt(sigma_next^2 - sigma_up^2)`. With `timestep_spacing="trailing"`, few steps and no
 * guidance it is SDXL-Turbo's sampler.
 */
export class EulerAncestralDiscreteScheduler extends SigmaScheduler {
  readonly stochastic = true;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions = {}) {
    super(config, options, { sigmaOptions: false });
  }

  /** @throws TypeError without a generator: every step draws `randn(sample.dims)` from it. */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.currentIndex(timestep);
    const sigma = this.sigmas[i]!;
    const pred = this.predictOriginal(modelOutput, sample, sigma);
    const from2 = f(sigma * sigma);
    const to2 = f(this.sigmas[i + 1]! * this.sigmas[i + 1]!);
    const sigmaUp = f(Math.sqrt(f(f(to2 * f(from2 - to2)) / from2)));
    const sigmaDown = f(Math.sqrt(f(to2 - f(sigmaUp * sigmaUp))));
    const dt = f(sigmaDown - sigma);
    const noise = this.noiseLike(modelOutput, generator);
    const prevSample = mapTensor(sample, (x, k) => {
      const euler = f(x + f(f(f(x - pred.data[k]!) / sigma) * dt));
      return euler + f(noise[k]! * sigmaUp);
    });
    this.stepIndex = i + 1;
    return { prevSample, predOriginalSample: pred };
  }
}
