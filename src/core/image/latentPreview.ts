import type { Float32Tensor } from '../tensor.ts';
import { encodePng } from './png.ts';

/**
 * SDXL's linear latent-to-RGB approximation: `rgb = latent · FACTORS + BIAS`, per latent pixel, in [-1, 1].
 * Fitted by ComfyUI (`comfy/latent_formats.py`, class `SDXL`, `latent_rgb_factors` and
 * `latent_rgb_factors_bias`) on latents in the UNet's space (after `scaling_factor`), as diffusers' latents are.
 * Rows are the 4 latent channels, columns R, G, B.
 */
export const SDXL_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.3651, 0.4232, 0.4341],
  [-0.2533, -0.0042, 0.1068],
  [0.1076, 0.1111, -0.0362],
  [-0.3165, -0.2492, -0.2188],
];
export const SDXL_LATENT_RGB_BIAS: readonly [number, number, number] = [0.1084, -0.0175, -0.0011];

/** A preview image: row-major RGBA pixels at the latent resolution (1/8 of the output per side for SDXL). */
export interface LatentPreview {
  rgba: Uint8Array;
  /** Pixels. */
  width: number;
  /** Pixels. */
  height: number;
}

/**
 * A small preview of latents without a VAE (as ComfyUI's "latent2rgb" previews): each latent pixel mapped
 * to RGB by `SDXL_LATENT_RGB_FACTORS`, then `(x + 1) / 2` clamped to [0, 1] and scaled to bytes. Best fed the
 * predicted denoised latents (`predOriginalSample`); fed the noisy latents it shows the noise until late steps.
 * @param latents float32 `[batch, 4, h, w]`; the first batch entry is previewed.
 * @returns RGBA `h x w` (alpha 255).
 * @throws RangeError when the latents do not have 4 channels.
 */
export function latentsToPreview(latents: Float32Tensor): LatentPreview {
  const [, channels, height, width] = latents.dims as [number, number, number, number];
  if (latents.dims.length !== 4 || channels !== 4) throw new RangeError(`latents [${latents.dims.join(', ')}] are not [batch, 4, h, w]`);
  const plane = width * height;
  const rgba = new Uint8Array(plane * 4);
  const d = latents.data;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = SDXL_LATENT_RGB_BIAS[c]!;
      for (let k = 0; k < 4; k++) v += d[k * plane + p]! * SDXL_LATENT_RGB_FACTORS[k]![c]!;
      rgba[p * 4 + c] = Math.round(Math.min(1, Math.max(0, (v + 1) / 2)) * 255);
    }
    rgba[p * 4 + 3] = 255;
  }
  return { rgba, width, height };
}

/** `latentsToPreview` as a PNG file (a few kilobytes: 128x128 for a 1024x1024 image). @throws as `latentsToPreview`. */
export function latentsToPreviewPng(latents: Float32Tensor): Uint8Array {
  const { rgba, width, height } = latentsToPreview(latents);
  return encodePng(rgba, width, height);
}
