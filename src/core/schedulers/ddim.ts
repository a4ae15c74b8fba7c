import type { TorchGenerator } from '../random/torchGenerator.ts';
import type { Float32Tensor } from '../tensor.ts';
import { AlphaScheduler } from './alphaScheduler.ts';
import { f, mapTensor } from './base.ts';
import { pick, type SchedulerConfig } from './config.ts';
import { arange, linspace, roundHalfEven } from './numpy.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/** DDIM's own options beside the config. */
export interface DdimOptions extends SchedulerOptions {
  /** η of the DDIM paper: 0 is deterministic (the default, as in diffusers pipelines), 1 is DDPM-like. */
  eta?: number;
}

/**
 * Denoising diffusion implicit models (Song et al. 2020, arXiv:2010.02502, equations 12 and 16), as diffusers
 * `schedulers/scheduling_ddim.py`: integer timesteps per `timestep_spacing` (default leading) and
 * `steps_offset`, `set_alpha_to_one`, `clip_sample` / `clip_sample_range`, epsilon / v / sample prediction,
 * `rescale_betas_zero_snr`, and noise of std `eta * sigma_t` drawn from the generator when eta > 0.
 */
export class DDIMScheduler extends AlphaScheduler {
  readonly stochastic: boolean;
  readonly eta: number;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: DdimOptions = {}) {
    super(config, options);
    this.eta = options.eta ?? 0;
    this.stochastic = this.eta > 0;
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkSteps(numInferenceSteps);
    const n = numInferenceSteps;
    const T = this.numTrainTimesteps;
    const spacing = pick(this.config, 'timestep_spacing', ['linspace', 'leading', 'trailing'] as const, 'leading');
    let timesteps: number[];
    if (spacing === 'linspace') timesteps = linspace(0, T - 1, n).map(roundHalfEven).reverse();
    else if (spacing === 'leading') {
      const ratio = Math.floor(T / n);
      timesteps = Array.from({ length: n }, (_, i) => roundHalfEven((n - 1 - i) * ratio) + (this.config.steps_offset ?? 0));
    } else timesteps = arange(T, 0, -T / n).map((t) => roundHalfEven(t) - 1);
    this.timesteps = Float32Array.from(timesteps);
    this.sigmas = Float32Array.from([...timesteps.map((t) => this.trainSigmas[t]!), 0]);
    this.resetCounters(n);
  }

  /** `(beta_prev / beta_t) * (1 - alpha_t / alpha_prev)`: sigma_t^2 for eta = 1 (equation 16). */
  variance(timestep: number, prevTimestep: number): number {
    const a = this.alphaProd(timestep, this.finalAlphaCumprod);
    const aPrev = this.alphaProd(prevTimestep, this.finalAlphaCumprod);
    return f(f(f(1 - aPrev) / f(1 - a)) * f(1 - f(a / aPrev)));
  }

  /** @throws TypeError when eta > 0 and no generator is given. */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor, generator?: TorchGenerator): SchedulerStepOutput {
    const i = this.currentIndex(timestep);
    const t = this.timesteps[i]!;
    const prevT = t - Math.floor(this.numTrainTimesteps / this.numInferenceSteps);
    const a = this.alphaProd(t, this.finalAlphaCumprod);
    const aPrev = this.alphaProd(prevT, this.finalAlphaCumprod);
    const [sqrtA, sqrtB] = AlphaScheduler.roots(a);
    const m = modelOutput.data;
    const unclipped = this.predictOriginal(modelOutput, sample, a);
    const eps = this.predictionType === 'epsilon'
      ? m
      : this.predictionType === 'v_prediction'
        ? mapTensor(sample, (x, k) => f(sqrtA * m[k]!) + f(sqrtB * x)).data
        : mapTensor(sample, (x, k) => f(x - f(sqrtA * unclipped.data[k]!)) / sqrtB).data;
    const pred = this.clipSample(unclipped);
    const std = f(this.eta * f(Math.sqrt(this.variance(t, prevT))));
    const direction = f(Math.sqrt(f(f(1 - aPrev) - f(std * std))));
    const sqrtAPrev = f(Math.sqrt(aPrev));
    let prev = mapTensor(pred, (x0, k) => f(sqrtAPrev * x0) + f(direction * eps[k]!));
    if (this.eta > 0) {
      const noise = this.noiseLike(modelOutput, generator);
      prev = mapTensor(prev, (x, k) => x + f(std * noise[k]!));
    }
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: pred };
  }
}
