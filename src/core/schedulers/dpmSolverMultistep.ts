import { float32, type Float32Tensor } from '../tensor.ts';
import { DiscreteScheduler, f, mapTensor } from './base.ts';
import { pick, SchedulerConfigError, type SchedulerConfig } from './config.ts';
import { arange, interpIndex, linspace, roundHalfEven } from './numpy.ts';
import { karrasSigmas, sigmaToT } from './sigmaScheduler.ts';
import type { SchedulerOptions, SchedulerStepOutput } from './types.ts';

/** alpha_t = 1 / sqrt(sigma^2 + 1), sigma_t = sigma * alpha_t (VP form of a Karras sigma), float32. */
function alphaSigma(sigma: number): [number, number] {
  const alpha = f(1 / f(Math.sqrt(f(f(sigma * sigma) + 1))));
  return [alpha, f(sigma * alpha)];
}

/** lambda = log(alpha_t) - log(sigma_t), the half log-SNR. */
const lambdaOf = ([alpha, sigma]: [number, number]) => f(f(Math.log(alpha)) - f(Math.log(sigma)));

/**
 * DPM-Solver++ multistep (Lu et al. 2022, arXiv:2211.01095), as diffusers
 * `schedulers/scheduling_dpmsolver_multistep.py` with `algorithm_type="dpmsolver++"`: "DPM++ 2M" at
 * `solver_order=2` (1 and 3 also work), `solver_type` midpoint or heun, `use_karras_sigmas` ("DPM++ 2M
 * Karras"), `final_sigmas_type` zero or sigma_min, `lower_order_final`, `euler_at_final`,
 * `lambda_min_clipped`, every `timestep_spacing`. Integer timesteps; the model input is not scaled.
 */
export class DPMSolverMultistepScheduler extends DiscreteScheduler {
  readonly stochastic = false;
  readonly initNoiseSigma = 1;
  private readonly solverOrder: number;
  private readonly solverType: 'midpoint' | 'heun';
  private readonly predictionType: 'epsilon' | 'v_prediction' | 'sample';
  private modelOutputs: (Float32Tensor | undefined)[];
  private lowerOrderNums = 0;

  /** @throws SchedulerConfigError for unsupported config values. */
  constructor(config: Readonly<SchedulerConfig>, options: SchedulerOptions = {}) {
    super(config, options);
    pick(config, 'algorithm_type', ['dpmsolver++'] as const, 'dpmsolver++');
    this.solverType = pick(config, 'solver_type', ['midpoint', 'heun'] as const, 'midpoint');
    this.predictionType = pick(config, 'prediction_type', ['epsilon', 'v_prediction', 'sample'] as const, 'epsilon');
    pick(config, 'final_sigmas_type', ['zero', 'sigma_min'] as const, 'zero');
    const order = config['solver_order'] ?? 2;
    if (order !== 1 && order !== 2 && order !== 3) throw new SchedulerConfigError('solver_order', `must be 1, 2 or 3, got ${String(order)}`);
    this.solverOrder = order;
    for (const key of ['use_lu_lambdas', 'use_exponential_sigmas', 'use_beta_sigmas', 'use_flow_sigmas'] as const) {
      if (config[key]) throw new SchedulerConfigError(key, 'is not supported (use use_karras_sigmas)');
    }
    if (config['variance_type']) throw new SchedulerConfigError('variance_type', 'learned variance is not supported');
    this.modelOutputs = new Array(order).fill(undefined);
    this.sigmas = this.trainSigmas.slice();
  }

  /** Timesteps beyond which lambda(t) < lambda_min_clipped are dropped (critical for cosine schedules). */
  private lastTimestep(): number {
    const clip = Number(this.config['lambda_min_clipped'] ?? -Infinity);
    const T = this.numTrainTimesteps;
    if (!Number.isFinite(clip)) return T;
    const lambdas = Array.from(this.alphasCumprod, (a) => f(f(Math.log(f(Math.sqrt(a)))) - f(Math.log(f(Math.sqrt(f(1 - a)))))));
    const ascending = lambdas.reverse();
    const clipped = ascending.findIndex((l) => l >= clip);
    return T - (clipped < 0 ? ascending.length : clipped);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.checkSteps(numInferenceSteps);
    const n = numInferenceSteps;
    const last = this.lastTimestep();
    const spacing = pick(this.config, 'timestep_spacing', ['linspace', 'leading', 'trailing'] as const, 'linspace');
    let timesteps: number[];
    if (spacing === 'linspace') {
      timesteps = linspace(0, last - 1, n + 1).map(roundHalfEven).reverse().slice(0, -1);
    } else if (spacing === 'leading') {
      const ratio = Math.floor(last / (n + 1));
      timesteps = Array.from({ length: n + 1 }, (_, i) => roundHalfEven(i * ratio)).reverse().slice(0, -1).map((t) => t + (this.config.steps_offset ?? 0));
    } else {
      timesteps = arange(last, 0, -this.numTrainTimesteps / n).map((t) => roundHalfEven(t) - 1);
    }
    let sigmas: number[];
    if (this.config.use_karras_sigmas) {
      const logSigmas = Array.from(this.trainSigmas, (s) => f(Math.log(s)));
      const train = this.trainSigmas;
      sigmas = karrasSigmas(train[0]!, train[train.length - 1]!, n);
      timesteps = sigmas.map((s) => roundHalfEven(sigmaToT(s, logSigmas)));
    } else {
      sigmas = timesteps.map((t) => interpIndex(t, this.trainSigmas));
    }
    const final = this.config.final_sigmas_type === 'sigma_min' ? this.trainSigmas[0]! : 0;
    this.sigmas = Float32Array.from([...sigmas, final]);
    this.timesteps = Float32Array.from(timesteps);
    this.modelOutputs = new Array(this.solverOrder).fill(undefined);
    this.lowerOrderNums = 0;
    this.resetCounters(timesteps.length);
  }

  scaleModelInput(sample: Float32Tensor): Float32Tensor {
    return sample;
  }

  /** The data prediction x0 that DPM-Solver++ integrates (`convert_model_output`). */
  private convertModelOutput(modelOutput: Float32Tensor, sample: Float32Tensor, index: number): Float32Tensor {
    const m = modelOutput.data;
    if (this.predictionType === 'sample') return float32(Float32Array.from(m), modelOutput.dims);
    const [alpha, sigma] = alphaSigma(this.sigmas[index]!);
    if (this.predictionType === 'epsilon') return mapTensor(sample, (x, k) => f(x - f(sigma * m[k]!)) / alpha);
    return mapTensor(sample, (x, k) => f(alpha * x) - f(sigma * m[k]!));
  }

  /**
   * One DPM-Solver++ step of the order the history allows.
   * @throws RangeError when called past the last timestep.
   */
  step(modelOutput: Float32Tensor, timestep: number, sample: Float32Tensor): SchedulerStepOutput {
    const i = this.currentIndex(timestep, 'last');
    const steps = this.timesteps.length;
    const lowerOrderFinal = i === steps - 1 && (Boolean(this.config['euler_at_final']) || (this.config['lower_order_final'] !== false && steps < 15) || this.config.final_sigmas_type !== 'sigma_min');
    const lowerOrderSecond = i === steps - 2 && this.config['lower_order_final'] !== false && steps < 15;
    const x0 = this.convertModelOutput(modelOutput, sample, i);
    this.modelOutputs = [...this.modelOutputs.slice(1), x0];
    let prev: Float32Tensor;
    if (this.solverOrder === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) prev = this.firstOrder(x0, sample, i);
    else if (this.solverOrder === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) prev = this.secondOrder(sample, i);
    else prev = this.thirdOrder(sample, i);
    if (this.lowerOrderNums < this.solverOrder) this.lowerOrderNums++;
    this.stepIndex = i + 1;
    return { prevSample: prev, predOriginalSample: x0 };
  }

  private firstOrder(x0: Float32Tensor, sample: Float32Tensor, i: number): Float32Tensor {
    const t = alphaSigma(this.sigmas[i + 1]!);
    const s = alphaSigma(this.sigmas[i]!);
    const h = f(lambdaOf(t) - lambdaOf(s));
    const a = f(t[1] / s[1]);
    const b = f(t[0] * f(f(Math.exp(-h)) - 1));
    return mapTensor(sample, (x, k) => f(a * x) - f(b * x0.data[k]!));
  }

  private secondOrder(sample: Float32Tensor, i: number): Float32Tensor {
    const [m1, m0] = this.modelOutputs.slice(-2) as [Float32Tensor, Float32Tensor];
    const t = alphaSigma(this.sigmas[i + 1]!);
    const s0 = alphaSigma(this.sigmas[i]!);
    const s1 = alphaSigma(this.sigmas[i - 1]!);
    const lt = lambdaOf(t);
    const l0 = lambdaOf(s0);
    const h = f(lt - l0);
    const r0 = f(f(l0 - lambdaOf(s1)) / h);
    const inv = f(1 / r0);
    const a = f(t[1] / s0[1]);
    const expm1 = f(f(Math.exp(-h)) - 1);
    const b = f(t[0] * expm1);
    const c = this.solverType === 'midpoint' ? f(0.5 * b) : f(t[0] * f(f(expm1 / h) + 1));
    return mapTensor(sample, (x, k) => {
      const d0 = m0.data[k]!;
      const d1 = f(inv * f(d0 - m1.data[k]!));
      const head = f(f(a * x) - f(b * d0));
      return this.solverType === 'midpoint' ? head - f(c * d1) : head + f(c * d1);
    });
  }

  private thirdOrder(sample: Float32Tensor, i: number): Float32Tensor {
    const [m2, m1, m0] = this.modelOutputs.slice(-3) as [Float32Tensor, Float32Tensor, Float32Tensor];
    const t = alphaSigma(this.sigmas[i + 1]!);
    const s0 = alphaSigma(this.sigmas[i]!);
    const [lt, l0, l1, l2] = [t, s0, alphaSigma(this.sigmas[i - 1]!), alphaSigma(this.sigmas[i - 2]!)].map(lambdaOf) as [number, number, number, number];
    const h = f(lt - l0);
    const r0 = f(f(l0 - l1) / h);
    const r1 = f(f(l1 - l2) / h);
    const a = f(t[1] / s0[1]);
    const expm1 = f(f(Math.exp(-h)) - 1);
    const b = f(t[0] * expm1);
    const c = f(t[0] * f(f(expm1 / h) + 1));
    const d = f(t[0] * f(f(f(expm1 + h) / f(h * h)) - 0.5));
    const inv0 = f(1 / r0);
    const inv1 = f(1 / r1);
    const w = f(r0 / f(r0 + r1));
    const invSum = f(1 / f(r0 + r1));
    return mapTensor(sample, (x, k) => {
      const d10 = f(inv0 * f(m0.data[k]! - m1.data[k]!));
      const d11 = f(inv1 * f(m1.data[k]! - m2.data[k]!));
      const d1 = f(d10 + f(w * f(d10 - d11)));
      const d2 = f(invSum * f(d10 - d11));
      return f(f(f(a * x) - f(b * m0.data[k]!)) + f(c * d1)) - f(d * d2);
    });
  }

  /** `alpha_t * x + sigma_t * noise` at the sigma of `timestep`. */
  addNoise(originalSamples: Float32Tensor, noise: Float32Tensor, timestep: number): Float32Tensor {
    const [alpha, sigma] = alphaSigma(this.sigmas[this.noiseIndex(timestep, 'last')]!);
    return mapTensor(originalSamples, (x, k) => f(alpha * x) + f(sigma * noise.data[k]!));
  }
}
