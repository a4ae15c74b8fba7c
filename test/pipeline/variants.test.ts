/**
 * Browser variants and export conventions through the real pipeline on onnxruntime-node: the converted
 * tiny package in each variant against the fp32 export (PSNR), what the converter wrote, sharded weights,
 * exports with fp16 inputs and outputs, int32 input_ids and int64 or scalar timesteps, sequential residency,
 * NaN and Inf from an overflowing fp16 VAE, and the tiled VAE decode.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeLatents, generate, loadSdxlPipeline, tiledDecode, vaeTileFor, type SdxlPipeline } from '../../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { parseGenerateRequest } from '../../src/core/request.ts';
import type { OnnxRuntime, OnnxSession } from '../../src/core/runtime.ts';
import { float32, type Float32Tensor } from '../../src/core/tensor.ts';
import { vaeOutputToRgba } from '../../src/core/image/postprocess.ts';
import { describeError } from '../../src/core/errors.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import type { VariantName } from '../../server/src/models/convert/variants.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { recordingRuntime, type RecordedCall } from '../helpers/recordingRuntime.ts';
import { MIN_PSNR, psnr, TempDirs, tinyExport, tinyVariant } from '../helpers/variants.ts';

const { onnx } = onnxProto;
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const request = parseGenerateRequest({ prompt: bakery.prompt, negative_prompt: 'low quality', width: 64, height: 64, seed: bakery.seed, num_inference_steps: 4, guidance_scale: 7.5 });
const dirs = new TempDirs();
afterAll(() => dirs.cleanup());

async function run(dir: string, options: { residency?: 'resident' | 'sequential'; fp32VaeStore?: string; runtime?: OnnxRuntime } = {}) {
  const pipe = await loadSdxlPipeline({
    store: new DirectoryStore(dir),
    runtime: options.runtime ?? createNodeRuntime('cpu'),
    ...(options.residency ? { residency: options.residency } : {}),
    ...(options.fp32VaeStore ? { fp32VaeStore: new DirectoryStore(options.fp32VaeStore) } : {}),
  });
  try {
    return await generate(pipe, request);
  } finally {
    await pipe.release();
  }
}

const opsOf = (path: string) => onnx.ModelProto.decode(readFileSync(path)).graph!.node!.map((n) => n.opType);
const inputTypes = (path: string) => Object.fromEntries(onnx.ModelProto.decode(readFileSync(path)).graph!.input!.map((i) => [i.name, i.type!.tensorType!.elemType]));

describe('browser variants of the tiny fixture', () => {
  const baseline = run(FIXTURE_DIR);

  it.each(['fp16', 'q8', 'q4f16', 'q4f32'] as VariantName[])('%s generates within its stated PSNR of the fp32 export', async (variant) => {
    const out = await run(tinyVariant(dirs, variant));
    const value = psnr(out.rgba, (await baseline).rgba);
    console.log(`${variant}: PSNR ${value.toFixed(2)} dB against fp32 (at least ${MIN_PSNR[variant]} dB stated)`);
    expect(value).toBeGreaterThanOrEqual(MIN_PSNR[variant]);
    expect(value).toBeLessThan(Infinity);
  });

  it('4-bit variants quantize every MatMul weight with MatMulNBits and every Conv weight to int8, on ops WebGPU runs', () => {
    const dir = tinyVariant(dirs, 'q4f16');
    const unet = opsOf(join(dir, 'unet/model.onnx'));
    expect(unet.filter((op) => op === 'MatMulNBits').length).toBe(60);
    expect(unet.filter((op) => op === 'DequantizeLinear').length).toBe(unet.filter((op) => op === 'Conv').length);
    for (const op of ['QLinearConv', 'ConvInteger', 'MatMulInteger', 'QLinearMatMul']) expect(unet).not.toContain(op);
    // the remaining MatMuls multiply activations (attention), not weights
    const graph = onnx.ModelProto.decode(readFileSync(join(dir, 'unet/model.onnx'))).graph!;
    const initializers = new Set(graph.initializer!.map((i) => i.name));
    expect(graph.node!.filter((n) => n.opType === 'MatMul' && initializers.has(n.input![1]!))).toEqual([]);
    // fp16 activations, float32 sinusoidal embeddings: timestep and time_ids stay float32 inputs
    expect(inputTypes(join(dir, 'unet/model.onnx'))).toEqual({ sample: 10, timestep: 1, encoder_hidden_states: 10, text_embeds: 10, time_ids: 1 });
    expect(inputTypes(join(tinyVariant(dirs, 'q4f32'), 'unet/model.onnx'))).toEqual({ sample: 1, timestep: 1, encoder_hidden_states: 1, text_embeds: 1, time_ids: 1 });
  });

  it('splits weights into shards of at most the given size, each initializer whole, with the same image', async () => {
    const limit = 200 * 1024;
    const dir = tinyVariant(dirs, 'q8', limit);
    const shards = readdirSync(join(dir, 'unet')).filter((f) => f.startsWith('model.onnx_data'));
    expect(shards.length).toBeGreaterThan(4);
    for (const s of shards) expect(statSync(join(dir, 'unet', s)).size).toBeLessThanOrEqual(limit);
    const graph = onnx.ModelProto.decode(readFileSync(join(dir, 'unet/model.onnx'))).graph!;
    for (const init of graph.initializer!.filter((i) => i.dataLocation === 1)) {
      const info = Object.fromEntries(init.externalData!.map((e) => [e.key, e.value]));
      expect(Number(info['offset']) + Number(info['length'])).toBeLessThanOrEqual(statSync(join(dir, 'unet', info['location']!)).size);
    }
    const sharded = await run(dir);
    const whole = await run(tinyVariant(dirs, 'q8'));
    expect(Buffer.from(sharded.png).equals(Buffer.from(whole.png))).toBe(true);
  });
});

describe('export conventions the pipeline adapts to', () => {
  it('fp16 inputs and outputs, int32 input_ids and an int64 [batch] timestep (diffusers --fp16 export)', async () => {
    const calls: RecordedCall[] = [];
    const dir = tinyExport(dirs, 'fp16-int32');
    const out = await run(dir, { runtime: recordingRuntime(calls) });
    const te = calls.find((c) => c.component === 'text_encoder')!;
    expect(te.feeds['input_ids']).toMatchObject({ type: 'int32', dims: [2, 77] });
    expect(te.outputs['hidden_states.1']!.type).toBe('float16');
    const unet = calls.filter((c) => c.component === 'unet');
    expect(unet[0]!.feeds['timestep']).toMatchObject({ type: 'int64', dims: [2] });
    expect(Array.from(unet.map((c) => (c.feeds['timestep']!.data as BigInt64Array)[0]))).toEqual([751n, 501n, 251n, 1n]);
    for (const name of ['sample', 'encoder_hidden_states', 'text_embeds', 'time_ids']) expect(unet[0]!.feeds[name]!.type).toBe('float16');
    expect(unet[0]!.outputs['out_sample']!.type).toBe('float16');
    expect(calls.find((c) => c.component === 'vae_decoder')!.outputs['sample']!.type).toBe('float16');
    const fp32 = await run(FIXTURE_DIR);
    console.log(`fp16-int32 export: PSNR ${psnr(out.rgba, fp32.rgba).toFixed(2)} dB against the fp32 export`);
    expect(psnr(out.rgba, fp32.rgba)).toBeGreaterThanOrEqual(MIN_PSNR.fp16);
  });

  it('a float16 scalar timestep (newer optimum fp16 exports)', async () => {
    const calls: RecordedCall[] = [];
    await run(tinyExport(dirs, 'fp16'), { runtime: recordingRuntime(calls) });
    const unet = calls.find((c) => c.component === 'unet')!;
    expect(unet.feeds['timestep']).toMatchObject({ type: 'float16', dims: [] });
    expect(unet.feeds['sample']!.dims).toEqual([2, 4, 8, 8]);
  });
});

describe('memory discipline', () => {
  it('sequential residency: text encoders released before the UNet is created, the VAE created after the loop, the same image', async () => {
    const events: string[] = [];
    const inner = createNodeRuntime('cpu');
    const runtime: OnnxRuntime = {
      executionProvider: inner.executionProvider,
      async createSession(source) {
        const session = await inner.createSession(source);
        events.push(`create ${source.component}`);
        return {
          ...session,
          run: async (feeds, names) => {
            events.push(`run ${source.component}`);
            return session.run(feeds, names);
          },
          release: async () => {
            events.push(`release ${source.component}`);
            await session.release();
          },
        };
      },
    };
    const pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime, residency: 'sequential' });
    expect(events).toEqual([]);
    const out = await generate(pipe, request);
    // the first generation never holds the UNet and the text encoders together
    expect(events.indexOf('release text_encoder_2')).toBeLessThan(events.indexOf('create unet'));
    expect(events.indexOf('release text_encoder')).toBeLessThan(events.indexOf('create unet'));
    expect(events.indexOf('create vae_decoder')).toBeGreaterThan(events.lastIndexOf('run unet'));
    expect(events.at(-1)).toBe('release vae_decoder');
    expect(events).not.toContain('release unet');
    expect(Buffer.from(out.png).equals(Buffer.from((await run(FIXTURE_DIR)).png))).toBe(true);
    // the UNet stays for the next generation
    events.length = 0;
    await generate(pipe, request);
    expect(events.filter((e) => e.startsWith('create'))).toEqual(['create text_encoder', 'create text_encoder_2', 'create vae_decoder']);
    await pipe.release();
  });
});

/** A copy of the q4f16 variant (fp16 VAE) whose VAE decoder overflows fp16: its input is multiplied by 60000. */
function overflowingVae(): string {
  const dir = tinyVariant(dirs, 'q4f16');
  const path = join(dir, 'vae_decoder/model.onnx');
  const model = onnx.ModelProto.decode(readFileSync(path));
  const graph = model.graph!;
  const scale = new Uint16Array([0x7b53]); // 60000 in fp16
  graph.initializer!.push({ name: 'overflow_scale', dims: [], dataType: 10, rawData: new Uint8Array(scale.buffer) });
  for (const node of graph.node!) node.input = node.input!.map((i) => (i === 'latent_sample' ? 'latent_sample_scaled' : i));
  graph.node!.unshift({ opType: 'Mul', name: '/overflow/Mul', input: ['latent_sample', 'overflow_scale'], output: ['latent_sample_scaled'] });
  writeFileSync(path, onnx.ModelProto.encode(model).finish());
  return dir;
}

describe('NaN and Inf', () => {
  it('an fp16 VAE that overflows is an error with its own code, never a black picture', async () => {
    const error = await run(overflowingVae()).catch((e: unknown) => e);
    expect(describeError(error)).toMatchObject({ code: 'non_finite_image' });
    expect((error as Error).message).toMatch(/VAE decoder produced NaN or Inf and the package has no float32 VAE/);
  });

  it('is decoded again with the package float32 VAE where one exists', async () => {
    const out = await run(overflowingVae(), { fp32VaeStore: FIXTURE_DIR });
    expect(out.fp32VaeRetry).toBe(true);
    const variant = await run(tinyVariant(dirs, 'q4f16'));
    expect(psnr(out.rgba, variant.rgba)).toBeGreaterThan(30);
  });

  it('latents that are not finite name the UNet', async () => {
    const pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: createNodeRuntime('cpu') });
    try {
      const latents = float32(new Float32Array(4 * 8 * 8).fill(Number.NaN), [1, 4, 8, 8]);
      await expect(decodeLatents(pipe, latents)).rejects.toThrow(/the UNet produced NaN or Inf latents/);
    } finally {
      await pipe.release();
    }
  });
});

describe('tiled VAE decode (diffusers AutoencoderKL.tiled_decode)', () => {
  /** A decoder that is purely local (each latent cell becomes an 8x8 block of its values): tiling must not show. */
  const local: OnnxSession = {
    inputs: [{ name: 'latent_sample', type: 'float32', shape: ['b', 4, 'h', 'w'] }],
    outputs: [{ name: 'sample', type: 'float32', shape: ['b', 3, 'H', 'W'] }],
    async run(feeds) {
      const t = feeds['latent_sample'] as Float32Tensor;
      const [, , h, w] = t.dims as [number, number, number, number];
      const out = new Float32Array(3 * 64 * h * w);
      for (let c = 0; c < 3; c++) for (let y = 0; y < 8 * h; y++) for (let x = 0; x < 8 * w; x++) out[(c * 8 * h + y) * 8 * w + x] = t.data[(c * h + (y >> 3)) * w + (x >> 3)]!;
      return { sample: float32(out, [1, 3, 8 * h, 8 * w]) };
    },
    release: async () => undefined,
  };

  it('tiles with a quarter overlap, blends and crops back to the whole image', async () => {
    const latents = float32(Float32Array.from({ length: 4 * 40 * 24 }, (_, i) => Math.sin(i * 0.37)), [1, 4, 40, 24]);
    const whole = (await local.run({ latent_sample: latents }))['sample'] as Float32Tensor;
    const tiled = await tiledDecode(local, latents, 16, 8);
    expect(tiled.dims).toEqual([1, 3, 320, 192]);
    let worst = 0;
    for (let i = 0; i < whole.data.length; i++) worst = Math.max(worst, Math.abs(tiled.data[i]! - whole.data[i]!));
    expect(worst).toBeLessThan(1e-6);
  });

  it('chooses a tile only when one pass would exceed the buffer, the largest that fits', async () => {
    let pipe: SdxlPipeline | undefined;
    try {
      pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: createNodeRuntime('cpu') });
      const vae = await pipe.session('vae_decoder');
      // tiny VAE: 32 channels at 1/8, 8 channels at full size, fp32; 64x64 latents = 512x512 pixels
      expect(vaeTileFor(pipe, vae, 64, 64, Infinity)).toBeUndefined();
      const tile = vaeTileFor(pipe, vae, 64, 64, 2 * 1024 * 1024)!;
      expect(tile % 8).toBe(0);
      expect(tile).toBeLessThan(64);
      expect(8 * (8 * tile) ** 2 * 4).toBeLessThanOrEqual(2 * 1024 * 1024);
      // a real decode in tiles stays close to the whole decode (the mid-block attention sees less context)
      const latents = float32(Float32Array.from({ length: 4 * 32 * 32 }, (_, i) => Math.sin(i * 0.11) * 3), [1, 4, 32, 32]);
      const whole = await decodeLatents(pipe, latents);
      const tiles = await decodeLatents(pipe, latents, 512 * 1024);
      expect(tiles.sample.dims).toEqual(whole.sample.dims);
      const closeness = psnr(vaeOutputToRgba(tiles.sample), vaeOutputToRgba(whole.sample));
      console.log(`tiled (16-cell tiles) against whole decode, tiny random VAE: PSNR ${closeness.toFixed(2)} dB`);
      expect(closeness).toBeGreaterThan(20);
    } finally {
      await pipe?.release();
    }
  });
});
