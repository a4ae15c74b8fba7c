import { encodePng } from '../../image/png.ts';
import { vaeOutputToRgba } from '../../image/postprocess.ts';
import type { GenerateRequest } from '../../request.ts';
import type { OnnxSession } from '../../runtime.ts';
import { schedulerFromConfig } from '../../schedulers/index.ts';
import { asFloat32, castFloat, concatBatch, float32, splitBatch, type Float32Tensor, type Tensor, type TensorType } from '../../tensor.ts';
import { GenerationCancelledError, type CancelSignal, type GenerateOutput, type ProgressEvent } from '../../types.ts';
import { getAddTimeIds, prepareLatents } from './conditioning.ts';
import { checkFeeds } from './contract.ts';
import { encodePrompt, zerosLike } from './encodePrompt.ts';
import type { SdxlPipeline } from './load.ts';

const f = Math.fround;

/** Options a host passes with each generation. */
export interface GenerateOptions {
  onProgress?: (event: ProgressEvent) => void;
  signal?: CancelSignal;
  /** Clock in milliseconds for the stage timings (defaults to `Date.now`). */
  now?: () => number;
}

function inputType(session: OnnxSession, name: string): TensorType {
  return session.inputs.find((i) => i.name === name)!.type as TensorType;
}

/** Casts a float32 tensor to the element type the session declares for `name` (fp16 exports). */
function feedAs(session: OnnxSession, name: string, t: Float32Tensor): Tensor {
  return castFloat(t, inputType(session, name));
}

/** The UNet `timestep` feed: rank 0 or `[batch]`, float or int64, per the graph. */
function timestepFeed(unet: OnnxSession, t: number, batch: number): Tensor {
  const info = unet.inputs.find((i) => i.name === 'timestep')!;
  const dims = info.shape.length === 0 ? [] : [batch];
  const count = dims.length ? batch : 1;
  if (info.type === 'int64') return { type: 'int64', data: new BigInt64Array(count).fill(BigInt(Math.round(t))), dims };
  return castFloat(float32(new Float32Array(count).fill(t), dims), info.type as TensorType);
}

/**
 * `noise_uncond + guidance_scale * (noise_text - noise_uncond)` in float32 (classifier-free guidance,
 * Ho & Salimans 2022; diffusers `StableDiffusionXLPipeline.__call__` step 8).
 */
export function applyGuidance(noiseUncond: Float32Tensor, noiseText: Float32Tensor, guidanceScale: number): Float32Tensor {
  const g = f(guidanceScale);
  const u = noiseUncond.data;
  const c = noiseText.data;
  return float32(u.map((x, i) => f(x + f(g * f(c[i]! - x)))), noiseUncond.dims);
}

/**
 * Text-to-image with SDXL, following diffusers `StableDiffusionXLPipeline.__call__` stage by stage
 * (`prompt_2 = prompt`, original and target size = the requested size, crop (0, 0)).
 * @param request a validated request (see `parseGenerateRequest`); sides must be multiples of the VAE scale.
 * @returns the PNG, its RGBA pixels, and timings per stage.
 * @throws GenerationCancelledError when `signal` is aborted between stages or steps; runtime errors as thrown.
 */
export async function generate(pipe: SdxlPipeline, request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateOutput> {
  const now = options.now ?? Date.now;
  const checkCancel = () => {
    if (options.signal?.aborted) throw new GenerationCancelledError();
  };
  const { unet: unetConfig, vae: vaeConfig, index, vaeScaleFactor } = pipe.package;
  const { width, height, seed } = request;
  const started = now();

  // 1. Define call parameters: guidance_scale <= 1 (or a guidance-embedding UNet) means one UNet pass per step.
  const doCfg = request.guidance_scale > 1 && !unetConfig.time_cond_proj_dim;
  const negativePrompt = request.negative_prompt.trim() ? request.negative_prompt : null;
  const zeroNegative = negativePrompt === null && index.force_zeros_for_empty_prompt === true;

  // 2. Encode the prompt (and the negative prompt in the same batch unless it is zeroed).
  checkCancel();
  options.onProgress?.({ stage: 'encode' });
  const prompts = doCfg && !zeroNegative ? [negativePrompt ?? '', request.prompt] : [request.prompt];
  const encoded = await encodePrompt(pipe, prompts);
  let promptEmbeds = encoded.promptEmbeds;
  let addTextEmbeds = encoded.pooledPromptEmbeds;
  if (doCfg && zeroNegative) {
    promptEmbeds = concatBatch([zerosLike(promptEmbeds), promptEmbeds]);
    addTextEmbeds = concatBatch([zerosLike(addTextEmbeds), addTextEmbeds]);
  }
  const truncated: GenerateOutput['truncated'] = {};
  if (encoded.truncated.at(-1)) truncated.prompt = encoded.truncated.at(-1);
  if (prompts.length === 2 && encoded.truncated[0]) truncated.negative_prompt = encoded.truncated[0];
  const encodedAt = now();

  // 3. Prepare timesteps.
  const scheduler = schedulerFromConfig(pipe.package.scheduler);
  scheduler.setTimesteps(request.num_inference_steps);

  // 4. Prepare latent variables.
  let { latents } = prepareLatents({
    seed,
    channels: unetConfig.in_channels,
    width,
    height,
    vaeScaleFactor,
    initNoiseSigma: scheduler.initNoiseSigma,
  });

  // 5. Prepare added time ids & embeddings (negative ones equal the positive ones).
  const batch = doCfg ? 2 : 1;
  const timeIds = getAddTimeIds([height, width], [0, 0], [height, width]);
  const unet = pipe.sessions.unet;
  const constantFeeds = {
    encoder_hidden_states: feedAs(unet, 'encoder_hidden_states', promptEmbeds),
    text_embeds: feedAs(unet, 'text_embeds', addTextEmbeds),
    time_ids: feedAs(unet, 'time_ids', doCfg ? concatBatch([timeIds, timeIds]) : timeIds),
  };

  // 6. Denoising loop.
  const timesteps = scheduler.timesteps;
  for (let i = 0; i < timesteps.length; i++) {
    checkCancel();
    const t = timesteps[i]!;
    const scaled = scheduler.scaleModelInput(latents, t);
    const latentModelInput = doCfg ? concatBatch([scaled, scaled]) : scaled;
    const feeds = { sample: feedAs(unet, 'sample', latentModelInput), timestep: timestepFeed(unet, t, batch), ...constantFeeds };
    checkFeeds('unet', unet, feeds);
    const out = await unet.run(feeds, ['out_sample']);
    let noisePred = asFloat32(out['out_sample']!);
    if (doCfg) {
      const [uncond, text] = splitBatch(noisePred) as [Float32Tensor, Float32Tensor];
      noisePred = applyGuidance(uncond, text, request.guidance_scale);
    }
    latents = scheduler.step(noisePred, t, latents).prevSample;
    options.onProgress?.({ stage: 'denoise', step: i + 1, totalSteps: timesteps.length });
  }
  const denoisedAt = now();

  // 7. Decode: undo the VAE latent scaling (and shift / per-channel statistics when the VAE has them).
  checkCancel();
  options.onProgress?.({ stage: 'decode' });
  const scaling = f(vaeConfig.scaling_factor);
  const { latents_mean: mean, latents_std: std } = vaeConfig;
  const plane = latents.data.length / unetConfig.in_channels;
  const shift = f(vaeConfig.shift_factor ?? 0);
  const unscaled = latents.data.map((x, k) => {
    if (mean && std) {
      const c = Math.floor(k / plane);
      return f(f(f(x * f(std[c]!)) / scaling) + f(mean[c]!));
    }
    return f(f(x / scaling) + shift);
  });
  const vae = pipe.sessions.vae_decoder;
  const vaeFeeds = { latent_sample: feedAs(vae, 'latent_sample', float32(unscaled, latents.dims)) };
  checkFeeds('vae_decoder', vae, vaeFeeds);
  const decoded = asFloat32((await vae.run(vaeFeeds, ['sample']))['sample']!);

  // 8. Post-process to RGBA and PNG.
  const rgba = vaeOutputToRgba(decoded);
  const [, , outHeight, outWidth] = decoded.dims as [number, number, number, number];
  const png = encodePng(rgba, outWidth, outHeight);
  const done = now();
  return {
    png,
    rgba,
    width: outWidth,
    height: outHeight,
    seed,
    executionProvider: pipe.executionProvider,
    truncated,
    timings: { encodeMs: encodedAt - started, denoiseMs: denoisedAt - encodedAt, decodeMs: done - denoisedAt, totalMs: done - started },
  };
}
