import { roundHalfEven } from '../numeric.ts';
import type { Float32Tensor } from '../tensor.ts';

const f = Math.fround;


/**
 * VAE output in [-1, 1] to 8-bit RGBA, as diffusers `VaeImageProcessor.postprocess(output_type="pil")`:
 * `(x / 2 + 0.5).clamp(0, 1)`, then `(x * 255).round()` in float32. Alpha is 255.
 * @param sample `[1, 3, H, W]` float32, NCHW.
 * @returns `H * W * 4` bytes, row-major RGBA.
 * @throws RangeError for a sample that is not `[1, 3, H, W]`.
 */
export function vaeOutputToRgba(sample: Float32Tensor): Uint8Array {
  const [batch, channels, height, width] = sample.dims;
  if (sample.dims.length !== 4 || batch !== 1 || channels !== 3) {
    throw new RangeError(`vae_decoder sample must be [1, 3, H, W], got [${sample.dims.join(', ')}]`);
  }
  const plane = height! * width!;
  const rgba = new Uint8Array(plane * 4);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      const v = Math.min(Math.max(f(f(sample.data[c * plane + p]! / 2) + 0.5), 0), 1);
      rgba[p * 4 + c] = roundHalfEven(f(v * 255));
    }
  }
  for (let p = 0; p < plane; p++) rgba[p * 4 + 3] = 255;
  return rgba;
}
