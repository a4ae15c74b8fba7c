/**
 * The deterministic harness of diffusers' scheduler tests (`tests/schedulers/test_schedulers.py`,
 * `SchedulerCommonTest`): `dummy_sample_deter`, `dummy_noise_deter` and `dummy_model`, in float32.
 */
import { TorchGenerator } from '../../../src/core/random/torchGenerator.ts';
import type { Scheduler } from '../../../src/core/schedulers/index.ts';
import { float32, type Float32Tensor } from '../../../src/core/tensor.ts';

const f = Math.fround;
const DIMS = [4, 3, 8, 8] as const; // batch, channels, height, width

/** `torch.arange(768)` (flipped for the noise), reshaped (C, H, W, B), divided by 768, permuted to (B, C, H, W). */
function deterministic(flip: boolean): Float32Tensor {
  const [B, C, H, W] = DIMS;
  const n = B * C * H * W;
  const out = new Float32Array(n);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++)
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const source = ((c * H + h) * W + w) * B + b;
          out[((b * C + c) * H + h) * W + w] = (flip ? n - 1 - source : source) / n;
        }
  return float32(out, DIMS);
}

export const dummySampleDeter = () => deterministic(false);
export const dummyNoiseDeter = () => deterministic(true);

/** `sample * t / (t + 1)` with t cast to the sample's float32. */
export function dummyModel(sample: Float32Tensor, t: number): Float32Tensor {
  const tf = f(t);
  const denom = f(tf + 1);
  return float32(sample.data.map((x) => f(x * tf) / denom), sample.dims);
}

export function sumAbs(t: Float32Tensor): number {
  return t.data.reduce((s, x) => s + Math.abs(x), 0);
}

/**
 * The full loop of diffusers' tests: optionally scale by `init_noise_sigma`, optionally `add_noise` at
 * `timesteps[tStart]` and start there, then scale_model_input, model, step with `torch.manual_seed(0)`.
 */
export function fullLoop(scheduler: Scheduler, options: { steps: number; initSigma: boolean; tStart?: number; scaleInput: boolean }): { sum: number; mean: number } {
  scheduler.setTimesteps(options.steps);
  const generator = new TorchGenerator(0);
  let sample = dummySampleDeter();
  if (options.initSigma) {
    const sigma = f(scheduler.initNoiseSigma);
    sample = float32(sample.data.map((x) => x * sigma), sample.dims);
  }
  let timesteps = Array.from(scheduler.timesteps);
  if (options.tStart !== undefined) {
    timesteps = timesteps.slice(options.tStart * scheduler.order);
    sample = scheduler.addNoise(sample, dummyNoiseDeter(), timesteps[0]!);
  }
  for (const t of timesteps) {
    const input = options.scaleInput ? scheduler.scaleModelInput(sample, t) : sample;
    sample = scheduler.step(dummyModel(input, t), t, input, generator).prevSample;
  }
  const sum = sumAbs(sample);
  return { sum, mean: sum / sample.data.length };
}
