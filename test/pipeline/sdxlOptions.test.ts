/**
 * SDXL conditioning, samplers and image-to-image through the real pipeline on onnxruntime-node with the tiny
 * fixture, checked against what diffusers' StableDiffusionXL(Img2Img)Pipeline feeds its models.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, loadSdxlPipeline, prepareReferenceImage, rescaleNoiseCfg, type SdxlPipeline } from '../../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';
import { parseGenerateRequest, RequestValidationError, type GenerateRequest } from '../../src/core/request.ts';
import { schedulerForSampler, SAMPLER_NAMES } from '../../src/core/schedulers/index.ts';
import { float32 } from '../../src/core/tensor.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import { buildVaeEncoder } from '../../scripts/sdxl-fixture/vae.ts';
import { FIXTURE_DIR, withFixtureCopy } from '../helpers/fixture.ts';
import { referencePhoto } from '../helpers/images.ts';
import { recordingRuntime as recording, type RecordedCall } from '../helpers/recordingRuntime.ts';

type Call = RecordedCall;

const flower = AD_CASES.find((c) => c.id === 'flower_shop')!;
const request = (over: Partial<GenerateRequest> = {}) =>
  parseGenerateRequest({ prompt: flower.prompt, negative_prompt: 'blurry', width: 64, height: 64, seed: flower.seed, num_inference_steps: 4, ...over });

const calls: Call[] = [];
let pipe: SdxlPipeline;
beforeAll(async () => {
  pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: recording(calls) });
});
afterAll(async () => pipe?.release());

const unetCalls = () => calls.filter((c) => c.component === 'unet');

describe('SDXL micro-conditioning and guidance', () => {
  it('time_ids carry original_size, crops_coords_top_left and target_size, negative ones in the first half', async () => {
    calls.length = 0;
    await generate(pipe, request({ original_size: [1024, 768], crops_coords_top_left: [16, 8], target_size: [512, 512] }));
    expect(Array.from(unetCalls()[0]!.feeds['time_ids']!.data as Float32Array)).toEqual([1024, 768, 16, 8, 512, 512, 1024, 768, 16, 8, 512, 512]);
    calls.length = 0;
    await generate(pipe, request({ negative_original_size: [512, 512], negative_target_size: [1024, 1024] }));
    expect(Array.from(unetCalls()[0]!.feeds['time_ids']!.data as Float32Array)).toEqual([512, 512, 0, 0, 1024, 1024, 64, 64, 0, 0, 64, 64]);
  });

  it('refuses half a negative conditioning instead of ignoring it (diffusers needs both sizes)', async () => {
    await expect(generate(pipe, request({ negative_original_size: [512, 512] }))).rejects.toThrow('negative_target_size: is required together with negative_original_size');
  });

  it('guidance_rescale matches rescale_noise_cfg: at 1 the result has the text prediction standard deviation', () => {
    const g = new TorchGenerator(1);
    const text = float32(g.randn([1, 4, 8, 8]).map((x) => x * 2), [1, 4, 8, 8]);
    const cfg = float32(g.randn([1, 4, 8, 8]).map((x) => x * 5 + 1), [1, 4, 8, 8]);
    const std = (a: Float32Array) => {
      const m = a.reduce((s, x) => s + x, 0) / a.length;
      return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / (a.length - 1));
    };
    expect(std(rescaleNoiseCfg(cfg, text, 1).data)).toBeCloseTo(std(text.data), 4);
    expect(Array.from(rescaleNoiseCfg(cfg, text, 0).data)).toEqual(Array.from(cfg.data));
  });

  it('guidance_rescale changes the image; guidance_scale 1 and 0 run one UNet pass per step', async () => {
    const plain = await generate(pipe, request());
    const rescaled = await generate(pipe, request({ guidance_rescale: 0.7 }));
    expect(Buffer.from(rescaled.rgba).equals(Buffer.from(plain.rgba))).toBe(false);
    for (const guidance_scale of [1, 0]) {
      calls.length = 0;
      await generate(pipe, request({ guidance_scale }));
      expect(unetCalls().every((c) => c.feeds['sample']!.dims[0] === 1)).toBe(true);
    }
  });
});

describe('samplers in the pipeline', () => {
  for (const sampler of SAMPLER_NAMES) {
    it(`${sampler}: runs its own timesteps and is deterministic for a seed`, async () => {
      calls.length = 0;
      const a = await generate(pipe, request({ scheduler: sampler }));
      const fed = unetCalls().map((c) => (c.feeds['timestep']!.data as Float32Array)[0]);
      const expected = schedulerForSampler(pipe.package.scheduler, sampler);
      expected.setTimesteps(4);
      expect(fed).toEqual(Array.from(expected.timesteps));
      const b = await generate(pipe, request({ scheduler: sampler }));
      expect(Buffer.from(b.png).equals(Buffer.from(a.png))).toBe(true);
    });
  }

  it('sdxl_turbo: trailing timesteps 999, 749, 499, 249 from the SDXL config', () => {
    const s = schedulerForSampler(pipe.package.scheduler, 'sdxl_turbo');
    s.setTimesteps(4);
    expect(Array.from(s.timesteps)).toEqual([999, 749, 499, 249]);
  });
});

describe('image-to-image through the same entry point', () => {
  const photo = referencePhoto(96, 64);

  it('encodes the reference fitted to the output, noises it at the first kept timestep, runs strength x steps', async () => {
    calls.length = 0;
    const req = request({ image: photo, strength: 0.5, num_inference_steps: 10, width: 64, height: 64 });
    await generate(pipe, req);
    const [encoderCall] = calls.filter((c) => c.component === 'vae_encoder');
    const expectedInput = prepareReferenceImage(photo, 64, 64);
    expect(encoderCall!.feeds['sample']!.dims).toEqual([1, 3, 64, 64]);
    expect(Array.from(encoderCall!.feeds['sample']!.data as Float32Array)).toEqual(Array.from(expectedInput.data));
    expect(unetCalls()).toHaveLength(5);
    // diffusers: latents = add_noise(sf * encoded, randn, t_start) after one latent-distribution draw
    const scheduler = schedulerForSampler(pipe.package.scheduler);
    scheduler.setTimesteps(10);
    scheduler.setBeginIndex(5);
    const g = new TorchGenerator(req.seed);
    const dims = [1, 4, 8, 8];
    g.randn(dims);
    const encoded = encoderCall!.outputs['latent_sample']!.data as Float32Array;
    const init = float32(encoded.map((x) => Math.fround(Math.fround(0.13025) * x)), dims);
    const noised = scheduler.addNoise(init, float32(g.randn(dims), dims), scheduler.timesteps[5]!);
    const firstInput = scheduler.scaleModelInput(noised, scheduler.timesteps[5]!);
    const fed = unetCalls()[0]!.feeds['sample']!.data as Float32Array;
    expect(Array.from(fed.subarray(0, 256))).toEqual(Array.from(firstInput.data));
    expect((unetCalls()[0]!.feeds['timestep']!.data as Float32Array)[0]).toBe(scheduler.timesteps[5]);
  });

  it('is deterministic, depends on strength and on the photo, and strength 1 runs every step', async () => {
    const a = await generate(pipe, request({ image: photo, strength: 0.5 }));
    const b = await generate(pipe, request({ image: photo, strength: 0.5 }));
    const c = await generate(pipe, request({ image: photo, strength: 0.75 }));
    const d = await generate(pipe, request({ image: referencePhoto(64, 96), strength: 0.5 }));
    expect(Buffer.from(b.png).equals(Buffer.from(a.png))).toBe(true);
    expect(Buffer.from(c.rgba).equals(Buffer.from(a.rgba))).toBe(false);
    expect(Buffer.from(d.rgba).equals(Buffer.from(a.rgba))).toBe(false);
    calls.length = 0;
    await generate(pipe, request({ image: photo, strength: 1 }));
    expect(unetCalls()).toHaveLength(4);
  });

  it('names strength when it would run no step, and image when the data is not a picture', async () => {
    // refused when the request is parsed (before the server queues it), and by generate for callers that skip parsing
    expect(() => request({ image: photo, strength: 0.1 })).toThrow(/strength: 0.1 of 4 steps runs no step/);
    await expect(generate(pipe, { ...request({ image: photo }), strength: 0.1 })).rejects.toThrow(/strength: 0.1 of 4 steps runs no step/);
    await expect(generate(pipe, request({ image: 'data:image/png;base64,AAAA' }))).rejects.toThrow(RequestValidationError);
  });

  it('samples latent_parameters exports (mean + std * randn, diffusers retrieve_latents)', async () => {
    await withFixtureCopy(async (dir) => {
      const vae = JSON.parse(String(await new DirectoryStore(dir).readText('vae_encoder/config.json')));
      writeFileSync(join(dir, 'vae_encoder/model.onnx'), buildVaeEncoder(vae, { seed: 5 }, 'latent_parameters').build().model);
      const local: Call[] = [];
      const other = await loadSdxlPipeline({ store: new DirectoryStore(dir), runtime: recording(local) });
      try {
        const req = request({ image: photo, strength: 0.5 });
        await generate(other, req);
        const params = local.find((c) => c.component === 'vae_encoder')!.outputs['latent_parameters']!;
        expect(params.dims).toEqual([1, 8, 8, 8]);
        const p = params.data as Float32Array;
        const g = new TorchGenerator(req.seed);
        const dims = [1, 4, 8, 8];
        const eps = g.randn(dims);
        const f = Math.fround;
        const sampled = Float32Array.from({ length: 256 }, (_, k) => p[k]! + f(f(Math.exp(f(0.5 * Math.min(Math.max(p[256 + k]!, -30), 20)))) * eps[k]!));
        const scheduler = schedulerForSampler(other.package.scheduler);
        scheduler.setTimesteps(4);
        scheduler.setBeginIndex(2);
        const noised = scheduler.addNoise(float32(sampled.map((x) => f(f(0.13025) * x)), dims), float32(g.randn(dims), dims), scheduler.timesteps[2]!);
        const fed = local.find((c) => c.component === 'unet')!.feeds['sample']!.data as Float32Array;
        expect(Array.from(fed.subarray(0, 256))).toEqual(Array.from(scheduler.scaleModelInput(noised, scheduler.timesteps[2]!).data));
      } finally {
        await other.release();
      }
    });
  });

  it('a package without vae_encoder says image-to-image is not available, naming image', async () => {
    await withFixtureCopy(async (dir) => {
      rmSync(join(dir, 'vae_encoder'), { recursive: true });
      const other = await loadSdxlPipeline({ store: new DirectoryStore(dir), runtime: createNodeRuntime('cpu') });
      try {
        expect(other.has('vae_encoder')).toBe(false);
        await expect(generate(other, request({ image: photo }))).rejects.toThrow('image: this model has no vae_encoder');
        expect((await generate(other, request())).png.length).toBeGreaterThan(0);
      } finally {
        await other.release();
      }
    });
  });
});
