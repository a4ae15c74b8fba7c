import { decodeImage, parseImageDataUrl } from '../../image/decode.ts';
import { resizeAndCrop, rgbToModelInput } from '../../image/resize.ts';
import type { TorchGenerator } from '../../random/torchGenerator.ts';
import { imageToImageSteps, RequestValidationError, strengthIssue } from '../../request.ts';
import type { Scheduler } from '../../schedulers/index.ts';
import { asFloat32, castFloat, elementCount, float32, type Float32Tensor, type TensorType } from '../../tensor.ts';
import { checkFeeds } from './contract.ts';
import type { SdxlPipeline } from './load.ts';

const f = Math.fround;


/**
 * Decodes the request's reference photo and fits it to the output: resized to cover `width` x `height` and
 * centre-cropped (diffusers `VaeImageProcessor.preprocess(..., resize_mode="crop")`), normalised to [-1, 1].
 * @returns `[1, 3, height, width]` float32.
 * @throws RequestValidationError naming `image` (bad data URL, type, size or pixels).
 */
export function prepareReferenceImage(dataUrl: string, width: number, height: number): Float32Tensor {
  const { bytes } = parseImageDataUrl(dataUrl);
  return rgbToModelInput(resizeAndCrop(decodeImage(bytes), width, height));
}

/**
 * The part of the schedule image-to-image runs (diffusers `get_timesteps`):
 * `init_timestep = min(int(n * strength), n)`, `t_start = max(n - init_timestep, 0)`.
 * @throws RequestValidationError naming `strength` when no step would run.
 */
export function strengthTimesteps(scheduler: Scheduler, numInferenceSteps: number, strength: number): { timesteps: Float32Array; tStart: number } {
  const noStep = strengthIssue(numInferenceSteps, strength);
  if (noStep) throw new RequestValidationError([noStep]);
  const tStart = Math.max(numInferenceSteps - imageToImageSteps(numInferenceSteps, strength), 0);
  const timesteps = scheduler.timesteps.subarray(tStart * scheduler.order);
  return { timesteps, tStart };
}

/**
 * Image-to-image starting latents (diffusers `StableDiffusionXLImg2ImgPipeline.prepare_latents`): the VAE
 * encoder's latents (sampled as `retrieve_latents(sample_mode="sample")` when the export returns
 * `latent_parameters`), times the VAE `scaling_factor`, noised with `scheduler.addNoise` at the first kept
 * timestep. Random draws, in diffusers' order: the latent-distribution sample, then the noise. An export that
 * returns `latent_sample` samples inside the graph, so its draw is skipped but still taken from the generator,
 * keeping the noise identical to diffusers'.
 * @param image `[1, 3, H, W]` in [-1, 1].
 * @returns `[1, C, H / 8, W / 8]` float32.
 * @throws RequestValidationError naming `image` when the package has no `vae_encoder`.
 */
export async function imageToLatents(pipe: SdxlPipeline, image: Float32Tensor, generator: TorchGenerator, scheduler: Scheduler, firstTimestep: number): Promise<Float32Tensor> {
  if (!pipe.has('vae_encoder')) throw new RequestValidationError([{ field: 'image', message: 'this model has no vae_encoder, so it cannot start from a reference image' }]);
  const encoder = await pipe.session('vae_encoder');
  const feeds = { sample: castFloat(image, encoder.inputs[0]!.type as TensorType) };
  checkFeeds('vae_encoder', encoder, feeds);
  const outputName = encoder.outputs.find((o) => o.name.startsWith('latent_'))!.name;
  const encoded = asFloat32((await encoder.run(feeds, [outputName]))[outputName]!);
  await pipe.afterPhase(['vae_encoder']);
  const channels = pipe.package.vae.latent_channels;
  const dims = [encoded.dims[0]!, channels, encoded.dims[2]!, encoded.dims[3]!];
  let latents: Float32Tensor;
  if (outputName === 'latent_parameters') {
    // DiagonalGaussianDistribution: mean, logvar = chunk(2); logvar clamped to [-30, 20]; mean + std * randn
    const count = elementCount(dims);
    const eps = generator.randn(dims);
    latents = float32(
      Float32Array.from({ length: count }, (_, k) => {
        const logvar = Math.min(Math.max(encoded.data[count + k]!, -30), 20);
        const std = f(Math.exp(f(0.5 * logvar)));
        return encoded.data[k]! + f(std * eps[k]!);
      }),
      dims,
    );
  } else {
    generator.randn(dims);
    latents = encoded;
  }
  const { scaling_factor: sf, latents_mean: mean, latents_std: std } = pipe.package.vae;
  const plane = dims[2]! * dims[3]!;
  const scaled = latents.data.map((x, k) => {
    if (mean && std) {
      const c = Math.floor(k / plane) % channels;
      return f(f(f(x - f(mean[c]!)) * f(sf)) / f(std[c]!));
    }
    return f(f(sf) * x);
  });
  const noise = float32(generator.randn(dims), dims);
  return scheduler.addNoise(float32(scaled, dims), noise, firstTimestep);
}
