import type { TorchGenerator } from '../../random/torchGenerator.ts';
import { float32, type Float32Tensor } from '../../tensor.ts';

/**
 * SDXL micro-conditioning (diffusers `StableDiffusionXLPipeline._get_add_time_ids`):
 * `[original_h, original_w, crop_top, crop_left, target_h, target_w]` in pixels, float32, `[1, 6]`.
 */
export function getAddTimeIds(
  originalSize: readonly [number, number],
  cropsCoordsTopLeft: readonly [number, number],
  targetSize: readonly [number, number],
): Float32Tensor {
  return float32(Float32Array.from([...originalSize, ...cropsCoordsTopLeft, ...targetSize]), [1, 6]);
}

/**
 * Initial latents (diffusers `prepare_latents` with a CPU `torch.Generator`): `torch.randn` of
 * `[1, C, height / s, width / s]` drawn from `generator` (the request's seeded stream), times the scheduler's
 * `init_noise_sigma`.
 * @param vaeScaleFactor pixels per latent cell (8 for SDXL).
 * @throws RangeError when a side is not a multiple of `vaeScaleFactor`.
 */
export function prepareLatents(options: {
  generator: TorchGenerator;
  channels: number;
  width: number;
  height: number;
  vaeScaleFactor: number;
  initNoiseSigma: number;
}): Float32Tensor {
  const { generator, channels, width, height, vaeScaleFactor: s, initNoiseSigma } = options;
  if (width % s || height % s) throw new RangeError(`width and height must be multiples of ${s}, got ${width}x${height}`);
  const dims = [1, channels, height / s, width / s];
  const sigma = Math.fround(initNoiseSigma);
  const noise = generator.randn(dims);
  const latents = sigma === 1 ? noise : noise.map((x) => Math.fround(x * sigma));
  return float32(latents, dims);
}
