import { float32, type Float32Tensor } from '../tensor.ts';
import type { RgbImage } from './decode.ts';

/** Pillow's fixed-point precision for 8-bit resampling (`libImaging/Resample.c`: 32 - 8 - 2). */
const PRECISION_BITS = 22;

const sinc = (x: number) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));
const lanczos = (x: number) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0);

/** Per output pixel: first input index, tap count, and fixed-point weights (`precompute_coeffs`). */
function coefficients(inSize: number, outSize: number): { first: number[]; weights: number[][] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 3 * filterScale;
  const first: number[] = [];
  const weights: number[][] = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k: number[] = [];
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) / filterScale);
      k.push(w);
      sum += w;
    }
    // normalize, then quantize as normalize_coeffs_8bpc (round half away from zero, truncating cast)
    weights.push(k.map((w) => (sum !== 0 ? w / sum : w)).map((w) => Math.trunc((w < 0 ? -0.5 : 0.5) + w * 2 ** PRECISION_BITS)));
    first.push(xmin);
  }
  return { first, weights };
}

const clip8 = (acc: number) => Math.min(255, Math.max(0, Math.floor(acc / 2 ** PRECISION_BITS)));

/**
 * Lanczos (a = 3) resize of 8-bit RGB, bit for bit as Pillow's `Image.resize(size, Image.LANCZOS)`
 * (`libImaging/Resample.c`: antialiased support when shrinking, 22-bit fixed-point weights, a horizontal
 * pass to 8 bits over the rows the vertical pass needs, then the vertical pass).
 */
export function resizeLanczos(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return image;
  let source = image;
  if (width !== image.width) {
    const { first, weights } = coefficients(image.width, width);
    const out = new Uint8Array(width * image.height * 3);
    for (let y = 0; y < image.height; y++) {
      const row = y * image.width * 3;
      for (let x = 0; x < width; x++) {
        const k = weights[x]!;
        for (let c = 0; c < 3; c++) {
          let acc = 2 ** (PRECISION_BITS - 1);
          for (let t = 0; t < k.length; t++) acc += image.data[row + (first[x]! + t) * 3 + c]! * k[t]!;
          out[(y * width + x) * 3 + c] = clip8(acc);
        }
      }
    }
    source = { width, height: image.height, data: out };
  }
  if (height === source.height) return source;
  const { first, weights } = coefficients(source.height, height);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const k = weights[y]!;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 2 ** (PRECISION_BITS - 1);
        for (let t = 0; t < k.length; t++) acc += source.data[((first[y]! + t) * width + x) * 3 + c]! * k[t]!;
        out[(y * width + x) * 3 + c] = clip8(acc);
      }
    }
  }
  return { width, height, data: out };
}

/**
 * Resizes to cover `width` x `height` and crops the centre, as diffusers
 * `VaeImageProcessor._resize_and_crop` (`resize_mode="crop"`: Lanczos resize to the covering size with
 * integer division, then paste centred on a black canvas).
 */
export function resizeAndCrop(image: RgbImage, width: number, height: number): RgbImage {
  const ratio = width / height;
  const sourceRatio = image.width / image.height;
  const srcW = ratio > sourceRatio ? width : Math.floor((image.width * height) / image.height);
  const srcH = ratio <= sourceRatio ? height : Math.floor((image.height * width) / image.width);
  const resized = resizeLanczos(image, srcW, srcH);
  const left = Math.floor(width / 2) - Math.floor(srcW / 2);
  const top = Math.floor(height / 2) - Math.floor(srcH / 2);
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const sy = y - top;
    if (sy < 0 || sy >= srcH) continue;
    for (let x = 0; x < width; x++) {
      const sx = x - left;
      if (sx < 0 || sx >= srcW) continue;
      out.set(resized.data.subarray((sy * srcW + sx) * 3, (sy * srcW + sx) * 3 + 3), (y * width + x) * 3);
    }
  }
  return { width, height, data: out };
}

/**
 * 8-bit RGB to the VAE encoder's input, as diffusers `VaeImageProcessor.preprocess`: `x / 255` in float32,
 * then `2x - 1`, NCHW.
 * @returns `[1, 3, H, W]` float32 in [-1, 1].
 */
export function rgbToModelInput(image: RgbImage): Float32Tensor {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) out[c * plane + p] = Math.fround(2 * Math.fround(image.data[p * 3 + c]! / 255)) - 1;
  }
  return float32(out, [1, 3, image.height, image.width]);
}
