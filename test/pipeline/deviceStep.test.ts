/**
 * The denoising step the pipeline runs on the GPU (`deviceDenoise.ts`) is an ONNX graph it writes itself:
 * here it runs on onnxruntime-node's CPU and must give what the host loop gives (`applyGuidance` and
 * `EulerDiscreteScheduler.step`, float32 operation by operation) for the SDXL Euler schedules. The browser
 * tests compare the WebGPU loop with the server's images.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { applyGuidance } from '../../src/core/pipelines/sdxl/generate.ts';
import { eulerStepModel } from '../../src/core/pipelines/sdxl/deviceDenoise.ts';
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';
import { EulerDiscreteScheduler } from '../../src/core/schedulers/eulerDiscrete.ts';
import { castFloat, concatBatch, float32, fromHalfBits, splitBatch, type Float32Tensor } from '../../src/core/tensor.ts';

const SDXL = { beta_start: 0.00085, beta_end: 0.012, beta_schedule: 'scaled_linear', num_train_timesteps: 1000, steps_offset: 1, timestep_spacing: 'leading', prediction_type: 'epsilon' } as const;
const dims = [1, 4, 8, 8];

async function runGraph(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(model);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

describe('the device Euler step graph', () => {
  it.each([
    ['leading spacing, guidance 7.5, fp32', { ...SDXL }, 7.5, 'float32'],
    ['Karras sigmas, guidance 5, fp16 UNet', { ...SDXL, use_karras_sigmas: true }, 5, 'float16'],
    ['trailing spacing (SDXL-Turbo), no guidance, fp32', { ...SDXL, timestep_spacing: 'trailing' }, undefined, 'float32'],
  ] as const)('%s: every step equals the host loop', async (_name, config, guidance, dtype) => {
    const host = new EulerDiscreteScheduler(config);
    const device = new EulerDiscreteScheduler(config);
    host.setTimesteps(6);
    device.setTimesteps(6);
    const g = new TorchGenerator(1000);
    let hostLatents: Float32Tensor = float32(g.randn(dims).map((x) => x * host.initNoiseSigma), dims);
    let deviceLatents = hostLatents;
    const model = eulerStepModel(guidance !== undefined, dtype, dtype);
    for (const t of host.timesteps) {
      const batch = guidance === undefined ? 1 : 2;
      const noise = float32(g.randn([batch, 4, 8, 8]), [batch, 4, 8, 8]);
      // what the UNet gives, in its dtype (fp16 rounding included on both sides)
      const out = castFloat(noise, dtype);
      const outF32 = dtype === 'float16' ? float32(Float32Array.from(out.data as Uint16Array, fromHalfBits), noise.dims) : noise;
      let pred = outF32;
      if (guidance !== undefined) {
        const [u, c] = splitBatch(outF32) as [Float32Tensor, Float32Tensor];
        pred = applyGuidance(u, c, guidance);
      }
      const expected = host.step(pred, t, hostLatents).prevSample;
      hostLatents = expected;

      device.scaleModelInput(deviceLatents, t); // sets the step index, as the device loop's first scaling does
      const { sigma, dt, nextInputDenominator } = device.stepScalars(t);
      const scalar = (v: number) => new ort.Tensor('float32', new Float32Array([v]), []);
      const result = await runGraph(model, {
        noise_pred: new ort.Tensor(dtype, out.data as Float32Array, [...out.dims]),
        latents: new ort.Tensor('float32', deviceLatents.data, [...dims]),
        ...(guidance !== undefined ? { guidance: scalar(guidance) } : {}),
        sigma: scalar(sigma),
        dt: scalar(dt),
        next_denominator: scalar(nextInputDenominator),
      });
      const prev = result['prev_latents']!.data as Float32Array;
      expect(Array.from(prev)).toEqual(Array.from(expected.data));
      deviceLatents = float32(Float32Array.from(prev), dims);
      // the next UNet input: scaled as scaleModelInput will scale it, doubled for guidance, in the UNet dtype
      if (t !== host.timesteps.at(-1)) {
        const scaled = host.scaleModelInput(expected, host.timesteps[host.timesteps.indexOf(t) + 1]!);
        const want = castFloat(guidance === undefined ? scaled : concatBatch([scaled, scaled]), dtype);
        expect(Array.from(result['next_sample']!.data as ArrayLike<number>)).toEqual(Array.from(want.data as ArrayLike<number>));
      }
    }
  });
});
