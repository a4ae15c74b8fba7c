/**
 * Alpha compositing with integer arithmetic only, so the same inputs give the same bytes in every JavaScript
 * engine (browser, worker, Node): no floating point touches a pixel value.
 */
import { assertRgbaImage, type RgbaImage } from '../image/rgba.ts';

/**
 * `round(numerator / denominator)` for non-negative integers, halves rounded up, exact while the numerator is
 * below 2^52 (every caller here stays below 2^26).
 */
const divRound = (numerator: number, denominator: number) => Math.floor((2 * numerator + denominator) / (2 * denominator));

/**
 * Converts premultiplied RGBA (what resvg produces: tiny-skia's pixmap, `RenderedImage.pixels`, in resvg-js
 * and resvg-wasm alike) to straight alpha in place: `c = round(c * 255 / a)`, clamped to 255; a fully
 * transparent pixel becomes 0,0,0,0.
 * @returns the same array.
 */
export function unpremultiply(rgba: Uint8Array): Uint8Array {
  for (let i = 0; i < rgba.length; i += 4) {
    const a = rgba[i + 3]!;
    if (a === 255) continue;
    if (a === 0) {
      rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
      continue;
    }
    rgba[i] = Math.min(255, divRound(rgba[i]! * 255, a));
    rgba[i + 1] = Math.min(255, divRound(rgba[i + 1]! * 255, a));
    rgba[i + 2] = Math.min(255, divRound(rgba[i + 2]! * 255, a));
  }
  return rgba;
}

/**
 * Blends one straight-alpha source pixel over one destination pixel (Porter-Duff "source over"), writing the
 * result at `out[o..o+3]`. With `da = 255` (an opaque picture) it is `round((sc*sa + dc*(255-sa)) / 255)`.
 */
function blendPixel(sr: number, sg: number, sb: number, sa: number, dst: Uint8Array, d: number, out: Uint8Array, o: number): void {
  const da = dst[d + 3]!;
  const dw = da * (255 - sa); // destination weight, scaled by 255
  const sw = sa * 255; // source weight, scaled by 255
  const total = sw + dw; // output alpha, scaled by 255
  if (total === 0) {
    out[o] = out[o + 1] = out[o + 2] = out[o + 3] = 0;
    return;
  }
  out[o] = divRound(sr * sw + dst[d]! * dw, total);
  out[o + 1] = divRound(sg * sw + dst[d + 1]! * dw, total);
  out[o + 2] = divRound(sb * sw + dst[d + 2]! * dw, total);
  out[o + 3] = divRound(total, 255);
}

/**
 * `overlay` alpha-blended over `image` ("source over", straight alpha, integer-exact), at full resolution.
 * Both must have the same size (pixels). Returns a new image; the inputs are not modified.
 * @throws RangeError for malformed images or different sizes.
 */
export function composite(image: RgbaImage, overlay: RgbaImage): RgbaImage {
  assertRgbaImage(image, 'image');
  assertRgbaImage(overlay, 'overlay');
  if (image.width !== overlay.width || image.height !== overlay.height) {
    throw new RangeError(`overlay is ${overlay.width}x${overlay.height} pixels, the image ${image.width}x${image.height}`);
  }
  const out = new Uint8Array(image.data);
  const src = overlay.data;
  for (let i = 0; i < src.length; i += 4) {
    const sa = src[i + 3]!;
    if (sa === 0) continue;
    blendPixel(src[i]!, src[i + 1]!, src[i + 2]!, sa, out, i, out, i);
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * A scrim: one colour whose alpha varies by row only (a vertical gradient across the full width).
 * `alpha[y]` is 0..255 for row `y` (length = image height).
 */
export interface Scrim {
  /** Scrim colour, `[r, g, b]` 0..255. */
  color: readonly [number, number, number];
  /** Alpha per row, 0..255, one entry per image row. */
  alpha: Uint8Array;
}

/**
 * The image with the scrim blended over it (same integer blend as `composite`). Returns a new image.
 * @throws RangeError when the scrim's row count differs from the image height.
 */
export function applyScrim(image: RgbaImage, scrim: Scrim): RgbaImage {
  assertRgbaImage(image, 'image');
  if (scrim.alpha.length !== image.height) throw new RangeError(`scrim has ${scrim.alpha.length} rows, the image ${image.height}`);
  const out = new Uint8Array(image.data);
  const [r, g, b] = scrim.color;
  const rowBytes = image.width * 4;
  for (let y = 0; y < image.height; y++) {
    const a = scrim.alpha[y]!;
    if (a === 0) continue;
    const end = (y + 1) * rowBytes;
    for (let i = y * rowBytes; i < end; i += 4) blendPixel(r, g, b, a, out, i, out, i);
  }
  return { width: image.width, height: image.height, data: out };
}

/** The colour one straight-alpha pixel takes when the scrim colour at alpha `a` is blended over it (opaque pixels). */
export function scrimmedChannel(c: number, scrimChannel: number, a: number): number {
  return divRound(scrimChannel * a * 255 + c * 255 * (255 - a), 255 * 255);
}
