import { encodePng } from '../../image/png.ts';
import { vaeOutputToRgba } from '../../image/postprocess.ts';
import { TorchGenerator } from '../../random/torchGenerator.ts';
import { DEFAULT_STRENGTH, RequestValidationError, requireResolved, type GenerateRequest } from '../../request.ts';
import type { OnnxSession } from '../../runtime.ts';
import { schedulerForSampler } from '../../schedulers/index.ts';
import { asFloat32, castFloat, concatBatch, float32, splitBatch, type Float32Tensor, type Tensor, type TensorType } from '../../tensor.ts';
import { GenerationCancelledError, type CancelSignal, type GenerateOutput, type ProgressEvent } from '../../types.ts';
import { getAddTimeIds, prepareLatents } from './conditioning.ts';
import { checkFeeds } from './contract.ts';
import { encodePrompt, zerosLike } from './encodePrompt.ts';
import { imageToLatents, prepareReferenceImage, strengthTimesteps } from './img2img.ts';
import type { SdxlPipeline } from './load.ts';
import { decodeLatents } from './vaeDecode.ts';
import { canDenoiseOnDevice, denoiseOnDevice } from './deviceDenoise.ts';

const f = Math.fround;

/** Options a host passes with each generation. */
export interface GenerateOptions {
  onProgress?: (event: ProgressEvent) => void;
  signal?: CancelSignal;
  /** Clock in milliseconds for the stage timings (defaults to `Date.now`). */
  now?: () => number;
  /** Largest GPU buffer, bytes: the VAE decodes in tiles when one pass would need more. */
  maxBufferBytes?: number;
  /**
   * Latents after every `every` steps (for a preview): on the host loop the scheduler's predicted denoised
   * latents (x0) where it gives them, on a device-resident loop the current latents (the only time they are
   * read back before the end, so ask only for what is shown).
   */
  preview?: { every: number; onLatents: (latents: Float32Tensor, step: number) => void };
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

/** Unbiased standard deviation of a batch entry (`torch.std` over all but the batch axis). */
function std(values: Float32Array): number {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  return Math.sqrt(values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1));
}

/**
 * Guidance rescale (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed", section
 * 3.4; diffusers `rescale_noise_cfg`): scales the guided prediction to the text prediction's standard deviation
 * and mixes by `guidanceRescale`. Batch 1.
 */
export function rescaleNoiseCfg(noiseCfg: Float32Tensor, noiseText: Float32Tensor, guidanceRescale: number): Float32Tensor {
  const factor = f(f(std(noiseText.data)) / f(std(noiseCfg.data)));
  const r = f(guidanceRescale);
  const keep = f(1 - guidanceRescale);
  return float32(noiseCfg.data.map((x) => f(f(r * f(x * factor)) + f(keep * x))), noiseCfg.dims);
}

/** diffusers only uses negative micro-conditioning when both sizes are given; say so instead of ignoring one. */
function checkNegativeConditioning(request: GenerateRequest): void {
  const { negative_original_size: o, negative_target_size: t } = request;
  if (Boolean(o) !== Boolean(t)) {
    const missing = o ? 'negative_target_size' : 'negative_original_size';
    throw new RequestValidationError([{ field: missing, message: `is required together with ${o ? 'negative_original_size' : 'negative_target_size'}` }]);
  }
}

const pair = (v: readonly number[] | undefined, fallback: readonly [number, number]): [number, number] => (v ? [v[0]!, v[1]!] : [fallback[0], fallback[1]]);

/** The pipeline's output before PNG encoding: RGBA pixels and the generation's facts. */
export type GenerateRgbaOutput = Omit<GenerateOutput, 'png'>;

/**
 * SDXL generation following diffusers `StableDiffusionXLPipeline.__call__` stage by stage, and
 * `StableDiffusionXLImg2ImgPipeline` when the request carries a reference `image` (same entry point).
 * `prompt_2 = prompt`; micro-conditioning from the request or the output size; classifier-free guidance unless
 * `guidance_scale <= 1` (or the UNet takes a guidance embedding); optional guidance rescale; the scheduler from
 * the model config or the requested sampler; one `torch.Generator("cpu").manual_seed(seed)` stream for the
 * initial latents, image-to-image draws and ancestral noise, in diffusers' order.
 * @param request a validated request with its prompt (see `parseGenerateRequest`; a request with only `ad.text`
 *   goes through the workflow's prompt node first, `src/core/workflow`); sides must be multiples of the VAE scale.
 * @returns the PNG, its RGBA pixels, and timings per stage.
 * @throws RequestValidationError for a missing prompt, a bad reference image or strength or an incomplete negative
 *   conditioning; GenerationCancelledError when `signal` is aborted between stages or steps; runtime errors as thrown.
 */
export async function generate(pipe: SdxlPipeline, request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateOutput> {
  const out = await generateRgba(pipe, request, options);
  const now = options.now ?? Date.now;
  const started = now();
  const png = encodePng(out.rgba, out.width, out.height);
  const encodeMs = now() - started;
  return { ...out, png, timings: { ...out.timings, decodeMs: out.timings.decodeMs + encodeMs, totalMs: out.timings.totalMs + encodeMs } };
}

/**
 * `generate` without the PNG: the decoded RGBA pixels (straight alpha, opaque) and the generation's facts. The
 * ad workflow runs this and encodes once, at its edge, after the layout.
 * @throws as `generate`.
 */
export async function generateRgba(pipe: SdxlPipeline, input: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateRgbaOutput> {
  const request = requireResolved(input);
  const now = options.now ?? Date.now;
  const checkCancel = () => {
    if (options.signal?.aborted) throw new GenerationCancelledError();
  };
  const { unet: unetConfig, vae: vaeConfig, index, vaeScaleFactor } = pipe.package;
  const { width, height, seed } = request;
  const started = now();
  const runBefore = pipe.runMs();
  const loadBefore = pipe.loadMs();

  // 1. Check inputs and define call parameters. guidance_scale <= 1 (or a guidance-embedding UNet) means one
  //    UNet pass per step.
  checkNegativeConditioning(request);
  const reference = request.image ? prepareReferenceImage(request.image, width, height) : undefined;
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

  // 3. Prepare timesteps (image-to-image keeps the last `strength` of them).
  const scheduler = schedulerForSampler(pipe.package.scheduler, request.scheduler);
  scheduler.setTimesteps(request.num_inference_steps);
  let timesteps = scheduler.timesteps;
  if (reference) {
    const kept = strengthTimesteps(scheduler, request.num_inference_steps, request.strength ?? DEFAULT_STRENGTH);
    timesteps = kept.timesteps;
    scheduler.setBeginIndex(kept.tStart * scheduler.order);
  }

  // 4. Prepare latent variables: noise times init_noise_sigma, or the encoded reference noised to timesteps[0].
  const generator = new TorchGenerator(seed);
  let latents = reference
    ? await imageToLatents(pipe, reference, generator, scheduler, timesteps[0]!)
    : prepareLatents({ generator, channels: unetConfig.in_channels, width, height, vaeScaleFactor, initNoiseSigma: scheduler.initNoiseSigma });

  // 5. Prepare added time ids & embeddings.
  const addTimeIds = getAddTimeIds(pair(request.original_size, [height, width]), pair(request.crops_coords_top_left, [0, 0]), pair(request.target_size, [height, width]));
  const negativeAddTimeIds = request.negative_original_size
    ? getAddTimeIds(pair(request.negative_original_size, [height, width]), pair(request.negative_crops_coords_top_left, [0, 0]), pair(request.negative_target_size, [height, width]))
    : addTimeIds;
  const batch = doCfg ? 2 : 1;
  await pipe.afterPhase(['text_encoder', 'text_encoder_2']);
  const unet = await pipe.session('unet');
  const constantFeeds = {
    encoder_hidden_states: feedAs(unet, 'encoder_hidden_states', promptEmbeds),
    text_embeds: feedAs(unet, 'text_embeds', addTextEmbeds),
    time_ids: feedAs(unet, 'time_ids', doCfg ? concatBatch([negativeAddTimeIds, addTimeIds]) : addTimeIds),
  };

  // 6. Denoising loop: on the device where the runtime has one and the sampler allows, else on the host.
  const wantLatents = (step: number) => Boolean(options.preview && step % options.preview.every === 0);
  const afterStep = (step: number, stepLatents?: Float32Tensor) => {
    if (stepLatents && options.preview) options.preview.onLatents(stepLatents, step);
    options.onProgress?.({ stage: 'denoise', step, totalSteps: timesteps.length });
  };
  // step 0: the loop starts (step k is reported when step k has run)
  options.onProgress?.({ stage: 'denoise', step: 0, totalSteps: timesteps.length });
  const onDevice = canDenoiseOnDevice(pipe, unet, scheduler, request.guidance_rescale);
  if (onDevice) {
    latents = await denoiseOnDevice({
      pipe,
      unet,
      scheduler,
      timesteps,
      latents,
      constantFeeds,
      timestepFeed: (t) => timestepFeed(unet, t, batch),
      ...(doCfg ? { guidanceScale: request.guidance_scale } : {}),
      checkCancel,
      wantLatents,
      onStep: afterStep,
    });
  } else {
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
        if (request.guidance_rescale > 0) noisePred = rescaleNoiseCfg(noisePred, text, request.guidance_rescale);
      }
      const stepped = scheduler.step(noisePred, t, latents, generator);
      latents = stepped.prevSample;
      // the preview shows the predicted denoised latents (x0), which look like the image from the first steps
      afterStep(i + 1, wantLatents(i + 1) ? stepped.predOriginalSample : undefined);
    }
  }
  const denoisedAt = now();

  // 7. Decode: undo the VAE latent scaling (and shift / per-channel statistics when the VAE has them).
  checkCancel();
  options.onProgress?.({ stage: 'decode' });
  const scaling = f(vaeConfig.scaling_factor);
  const { latents_mean: mean, latents_std: stdev } = vaeConfig;
  const plane = latents.data.length / unetConfig.in_channels;
  const shift = f(vaeConfig.shift_factor ?? 0);
  const unscaled = latents.data.map((x, k) => {
    if (mean && stdev) {
      const c = Math.floor(k / plane);
      return f(f(f(x * f(stdev[c]!)) / scaling) + f(mean[c]!));
    }
    return f(f(x / scaling) + shift);
  });
  const { sample: decoded, fp32VaeRetry } = await decodeLatents(pipe, float32(unscaled, latents.dims), options.maxBufferBytes);
  await pipe.afterPhase(['vae_decoder']);

  // 8. Post-process to RGBA (the PNG is the caller's edge: `generate`, or the workflow's export node).
  const rgba = vaeOutputToRgba(decoded);
  const [, , outHeight, outWidth] = decoded.dims as [number, number, number, number];
  const done = now();
  return {
    rgba,
    width: outWidth,
    height: outHeight,
    seed,
    executionProvider: pipe.executionProvider,
    truncated,
    fp32VaeRetry,
    denoisedOn: onDevice ? 'device' : 'host',
    timings: { encodeMs: encodedAt - started, denoiseMs: denoisedAt - encodedAt, decodeMs: done - denoisedAt, totalMs: done - started, runMs: pipe.runMs() - runBefore, loadMs: pipe.loadMs() - loadBefore },
  };
}
