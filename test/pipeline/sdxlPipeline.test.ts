import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, loadSdxlPipeline, ModelContractError, type SdxlPipeline } from '../../src/core/pipelines/sdxl/index.ts';
import { AD_CASES, sizeForAspectRatio } from '../../src/core/product/index.ts';
import { parseGenerateRequest, RequestValidationError, type GenerateRequest } from '../../src/core/request.ts';
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import { FIXTURE_DIR, withFixtureCopy } from '../helpers/fixture.ts';
import { decodeRgba } from '../helpers/png.ts';
import { recordingRuntime, type RecordedCall as Call } from '../helpers/recordingRuntime.ts';

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;

/** The bakery case from ad-cases.json at the fixture's scale (4:3 -> 72x56), 4 steps. */
function bakeryRequest(over: Partial<GenerateRequest> = {}): GenerateRequest {
  const { width, height } = sizeForAspectRatio(bakery.aspect_ratio, 64);
  return parseGenerateRequest({ prompt: bakery.prompt, negative_prompt: 'low quality, blurry', width, height, seed: bakery.seed, num_inference_steps: 4, guidance_scale: bakery.guidance_scale, ...over });
}

describe('SDXL pipeline on onnxruntime-node with the tiny fixture', () => {
  const calls: Call[] = [];
  let pipe: SdxlPipeline;

  beforeAll(async () => {
    pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: recordingRuntime(calls) });
  });
  afterAll(async () => pipe?.release());

  it('gives byte-identical PNGs for the same seed, also from a freshly loaded pipeline', async () => {
    const first = await generate(pipe, bakeryRequest());
    const second = await generate(pipe, bakeryRequest());
    expect(Buffer.from(second.png).equals(Buffer.from(first.png))).toBe(true);
    const fresh = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: createNodeRuntime('cpu') });
    try {
      const third = await generate(fresh, bakeryRequest());
      expect(Buffer.from(third.png).equals(Buffer.from(first.png))).toBe(true);
    } finally {
      await fresh.release();
    }
    const decoded = decodeRgba(first.png);
    expect([decoded.width, decoded.height]).toEqual([72, 56]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(first.rgba))).toBe(true);
  });

  it('gives different images for different seeds, prompts and Korean prompts', async () => {
    const base = await generate(pipe, bakeryRequest());
    const otherSeed = await generate(pipe, bakeryRequest({ seed: 1001 }));
    const korean = await generate(pipe, bakeryRequest({ prompt: bakery.prompt_ko }));
    expect(Buffer.from(otherSeed.rgba).equals(Buffer.from(base.rgba))).toBe(false);
    expect(Buffer.from(korean.rgba).equals(Buffer.from(base.rgba))).toBe(false);
  });

  it('feeds every model input with the SDXL shapes, dtypes and values', async () => {
    calls.length = 0;
    const request = bakeryRequest();
    await generate(pipe, request);
    const byComponent = (c: string) => calls.filter((call) => call.component === c);
    const [te1] = byComponent('text_encoder');
    const [te2] = byComponent('text_encoder_2');
    const unetCalls = byComponent('unet');
    const [vae] = byComponent('vae_decoder');
    // text encoders: [negative, prompt] as one batch of 77 ids, in the graph's integer type
    for (const te of [te1!, te2!]) {
      expect(te.feeds['input_ids']).toMatchObject({ type: 'int64', dims: [2, 77] });
    }
    expect(Object.keys(te1!.outputs)).toEqual(['hidden_states.1']);
    expect(te1!.outputs['hidden_states.1']!.dims).toEqual([2, 77, 32]);
    expect(te2!.outputs['text_embeds']!.dims).toEqual([2, 32]);
    // unet: one run per step, classifier-free guidance batch of 2
    expect(unetCalls).toHaveLength(request.num_inference_steps);
    const h = request.height / 8;
    const w = request.width / 8;
    for (const call of unetCalls) {
      expect(call.feeds['sample']).toMatchObject({ type: 'float32', dims: [2, 4, h, w] });
      expect(call.feeds['timestep']).toMatchObject({ type: 'float32', dims: [2] });
      expect(call.feeds['encoder_hidden_states']).toMatchObject({ type: 'float32', dims: [2, 77, 64] });
      expect(call.feeds['text_embeds']).toMatchObject({ type: 'float32', dims: [2, 32] });
      expect(call.feeds['time_ids']).toMatchObject({ type: 'float32', dims: [2, 6] });
      expect(Array.from(call.feeds['time_ids']!.data as Float32Array)).toEqual([56, 72, 0, 0, 56, 72, 56, 72, 0, 0, 56, 72]);
      expect(call.outputs['out_sample']!.dims).toEqual([2, 4, h, w]);
    }
    expect(unetCalls.map((c) => (c.feeds['timestep']!.data as Float32Array)[0])).toEqual([751, 501, 251, 1]);
    expect(vae!.feeds['latent_sample']).toMatchObject({ type: 'float32', dims: [1, 4, h, w] });
    expect(vae!.outputs['sample']!.dims).toEqual([1, 3, request.height, request.width]);
  });

  it('starts from torch.randn(seed) * init_noise_sigma, as diffusers with a CPU generator', async () => {
    calls.length = 0;
    const request = bakeryRequest({ guidance_scale: 1 });
    await generate(pipe, request);
    const firstUnet = calls.find((c) => c.component === 'unet')!;
    const noise = new TorchGenerator(request.seed).randn([1, 4, request.height / 8, request.width / 8]);
    // first UNet input = latents / sqrt(sigma^2 + 1) = noise * init_noise_sigma / sqrt(sigma_0^2 + 1) = noise (leading spacing)
    const sample = firstUnet.feeds['sample']!.data as Float32Array;
    expect(firstUnet.feeds['sample']!.dims[0]).toBe(1);
    noise.forEach((v, i) => expect(sample[i]).toBeCloseTo(v, 5));
  });

  it('guidance_scale <= 1 runs the UNet once per step on a batch of 1', async () => {
    calls.length = 0;
    await generate(pipe, bakeryRequest({ guidance_scale: 1 }));
    expect(calls.filter((c) => c.component === 'unet').every((c) => c.feeds['sample']!.dims[0] === 1)).toBe(true);
    expect(calls.find((c) => c.component === 'text_encoder')!.feeds['input_ids']!.dims).toEqual([1, 77]);
  });

  it('an empty negative prompt gives zero embeddings (force_zeros_for_empty_prompt) without encoding ""', async () => {
    calls.length = 0;
    await generate(pipe, bakeryRequest({ negative_prompt: '   ' }));
    expect(calls.find((c) => c.component === 'text_encoder')!.feeds['input_ids']!.dims).toEqual([1, 77]);
    const unet = calls.find((c) => c.component === 'unet')!;
    const ehs = unet.feeds['encoder_hidden_states']!.data as Float32Array;
    const half = ehs.length / 2;
    expect(ehs.subarray(0, half).every((v) => v === 0)).toBe(true);
    expect(ehs.subarray(half).some((v) => v !== 0)).toBe(true);
    expect((unet.feeds['text_embeds']!.data as Float32Array).subarray(0, 32).every((v) => v === 0)).toBe(true);
  });

  it('reports the words cut from a prompt longer than 77 tokens', async () => {
    const long = `${Array.from({ length: 90 }, () => 'bread').join(' ')} croissant`;
    const out = await generate(pipe, bakeryRequest({ prompt: long }));
    expect(out.truncated.prompt).toMatch(/croissant$/);
  });

  it('stops between steps when the signal is aborted', async () => {
    const signal = { aborted: false };
    const run = generate(pipe, bakeryRequest({ num_inference_steps: 10 }), {
      signal,
      onProgress: (e) => {
        if (e.stage === 'denoise' && e.step === 2) signal.aborted = true;
      },
    });
    await expect(run).rejects.toThrow('generation cancelled');
  });
});

describe('bad input', () => {
  it('rejects bad requests before any model runs, naming the field', () => {
    expect(() => bakeryRequest({ width: 70 })).toThrow(RequestValidationError);
    expect(() => bakeryRequest({ num_inference_steps: 151 })).toThrow(/num_inference_steps: must be <= 150/);
    expect(() => bakeryRequest({ prompt: '' })).toThrow(/prompt/);
  });

  it('refuses a package whose graph breaks the SDXL contract, naming the component and input', async () => {
    await withFixtureCopy(async (broken) => {
      // the VAE decoder in the UNet's place: wrong inputs
      writeFileSync(join(broken, 'unet/model.onnx'), readFileSync(join(FIXTURE_DIR, 'vae_decoder/model.onnx')));
      await expect(loadSdxlPipeline({ store: new DirectoryStore(broken), runtime: createNodeRuntime('cpu') })).rejects.toThrow(ModelContractError);
      await expect(loadSdxlPipeline({ store: new DirectoryStore(broken), runtime: createNodeRuntime('cpu') })).rejects.toThrow(/unet: input "sample" is missing/);
    });
  });

  it('refuses a package that is not SDXL, naming the file', async () => {
    await withFixtureCopy(async (other) => {
      const index = JSON.parse(readFileSync(join(other, 'model_index.json'), 'utf8'));
      writeFileSync(join(other, 'model_index.json'), JSON.stringify({ ...index, _class_name: 'StableDiffusionPipeline' }));
      await expect(loadSdxlPipeline({ store: new DirectoryStore(other), runtime: createNodeRuntime('cpu') })).rejects.toThrow(/model_index.json: _class_name "StableDiffusionPipeline" is not an SDXL pipeline/);
    });
  });
});
