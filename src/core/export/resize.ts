import { describe, checkImage, invalid } from './errors.ts';
import type { RgbaImage } from './rgba.ts';
import { exportDimensions, exportSize, type ExportSizeId } from './sizes.ts';

/** How the generated image is made to fill an export size of another aspect ratio. */
export type ExportFit = 'fit' | 'crop';
export const EXPORT_FITS: readonly ExportFit[] = ['fit', 'crop'];

/**
 * Scales RGBA pixels (straight alpha) to exactly `width x height` pixels, stretching if the aspect differs.
 * Asynchronous so that an implementation may run elsewhere (a worker); must not modify its input.
 */
export type Resizer = (image: RgbaImage, width: number, height: number) => Promise<RgbaImage>;

/**
 * The `resize` export of jSquash's wasm (`@jsquash/resize/lib/resize/pkg/squoosh_resize.js`, Squoosh's Rust
 * `resize` crate): RGBA bytes in, RGBA bytes out. `method` 0 triangle, 1 catrom, 2 mitchell, 3 lanczos3.
 */
export type SquooshResize = (
  input: Uint8Array,
  inputWidth: number,
  inputHeight: number,
  outputWidth: number,
  outputHeight: number,
  method: number,
  premultiply: boolean,
  linearRgb: boolean,
) => Uint8ClampedArray;

const LANCZOS3 = 3;

/**
 * A `Resizer` over jSquash's resize wasm, with the settings both sides use: Lanczos3 (antialiased when
 * shrinking), alpha premultiplied while filtering, and filtering in linear light (Squoosh's defaults). The Node
 * and browser initialisers only load the wasm and pass its `resize` function here, so the settings cannot drift.
 * The wasm entry point is called directly rather than `@jsquash/resize`'s default export, which builds an
 * `ImageData` (absent in Node) and reads `data.buffer` whole (wrong for a view into a larger buffer).
 */
export function squooshResizer(resize: SquooshResize): Resizer {
  return async (image, width, height) => {
    if (width === image.width && height === image.height) return image;
    const out = resize(image.data, image.width, image.height, width, height, LANCZOS3, true, true);
    return { width, height, data: new Uint8Array(out.buffer, out.byteOffset, out.length) };
  };
}

/** A point of the source image, as fractions of its width and height (0..1; 0.5, 0.5 is the centre). */
export interface FocusPoint {
  x: number;
  y: number;
}

export interface ResizeForExportOptions {
  /** For `crop`: the point to keep as near the centre of the export as the image allows. Default the centre. */
  focus?: FocusPoint;
}

/** Darkening of the blurred padding of `fit` (its RGB is multiplied by this). */
export const FIT_BACKGROUND_DARKEN = 0.6;
/** The padding is blurred at 1/this of the export size, then scaled up. */
const BACKGROUND_DOWNSCALE = 8;
/** Box blur radius (in downscaled pixels) and passes: about a Gaussian of sigma 3.5 there, 28 export pixels. */
const BLUR_RADIUS = 3;
const BLUR_PASSES = 3;

function copyRect(image: RgbaImage, x: number, y: number, width: number, height: number): RgbaImage {
  if (x === 0 && y === 0 && width === image.width && height === image.height) return image;
  const data = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * 4;
    data.set(image.data.subarray(from, from + width * 4), row * width * 4);
  }
  return { width, height, data };
}

/**
 * Cover: scales the image to fill `width x height` and crops what overflows, keeping `focus` as central as the
 * image allows. Only the part of the source that is kept (plus the filter's support) is resampled, at the scale
 * the whole image would have, so the result equals scaling the whole image and cropping it.
 */
async function cover(image: RgbaImage, width: number, height: number, resize: Resizer, focus: FocusPoint): Promise<RgbaImage> {
  const { width: W, height: H } = image;
  if (W * height === H * width) return resize(image, width, height);
  const scale = Math.max(width / W, height / H);
  // the window of the source that lands in the export, in (fractional) source pixels
  const windowW = width / scale;
  const windowH = height / scale;
  const left = Math.min(Math.max(focus.x * W - windowW / 2, 0), W - windowW);
  const top = Math.min(Math.max(focus.y * H - windowH / 2, 0), H - windowH);
  // resample a slightly larger integer region, so the filter sees real neighbours at the window's edges
  const margin = Math.ceil(3 * Math.max(1, 1 / scale)) + 1;
  const x0 = Math.max(0, Math.floor(left) - margin);
  const y0 = Math.max(0, Math.floor(top) - margin);
  const x1 = Math.min(W, Math.ceil(left + windowW) + margin);
  const y1 = Math.min(H, Math.ceil(top + windowH) + margin);
  const scaledW = Math.max(width, Math.round((x1 - x0) * scale));
  const scaledH = Math.max(height, Math.round((y1 - y0) * scale));
  const scaled = await resize(copyRect(image, x0, y0, x1 - x0, y1 - y0), scaledW, scaledH);
  const ox = Math.min(Math.max(Math.round((left - x0) * scale), 0), scaledW - width);
  const oy = Math.min(Math.max(Math.round((top - y0) * scale), 0), scaledH - height);
  return copyRect(scaled, ox, oy, width, height);
}

/** Separable box blur of premultiplied RGBA, edges clamped, `passes` times; returns a new image. */
function boxBlur(image: RgbaImage, radius: number, passes: number): RgbaImage {
  const { width, height } = image;
  const a = new Uint8Array(image.data);
  const b = new Uint8Array(a.length);
  const n = 2 * radius + 1;
  const pass = (src: Uint8Array, dst: Uint8Array, length: number, lines: number, step: number, lineStep: number) => {
    for (let line = 0; line < lines; line++) {
      const base = line * lineStep;
      for (let c = 0; c < 4; c++) {
        const at = (i: number) => src[base + Math.min(Math.max(i, 0), length - 1) * step + c]!;
        let sum = 0;
        for (let i = -radius; i <= radius; i++) sum += at(i);
        for (let i = 0; i < length; i++) {
          dst[base + i * step + c] = Math.round(sum / n);
          sum += at(i + radius + 1) - at(i - radius);
        }
      }
    }
  };
  for (let p = 0; p < passes; p++) {
    pass(a, b, width, height, 4, width * 4);
    pass(b, a, height, width, width * 4, 4);
  }
  return { width, height, data: a };
}

/**
 * The padding of `fit`: the image cover-scaled (Lanczos3) to 1/8 of the export size, box-blurred, darkened,
 * and scaled up bilinearly to the export size.
 */
async function blurredBackground(image: RgbaImage, width: number, height: number, resize: Resizer): Promise<RgbaImage> {
  const smallW = Math.max(1, Math.round(width / BACKGROUND_DOWNSCALE));
  const smallH = Math.max(1, Math.round(height / BACKGROUND_DOWNSCALE));
  const small = await cover(image, smallW, smallH, resize, { x: 0.5, y: 0.5 });
  // premultiply (a transparent area must not bleed its hidden colour), blur, darken, un-premultiply
  const pre = new Uint8Array(small.data);
  for (let i = 0; i < pre.length; i += 4) {
    const alpha = pre[i + 3]!;
    if (alpha === 255) continue;
    for (let c = 0; c < 3; c++) pre[i + c] = Math.round((pre[i + c]! * alpha) / 255);
  }
  const blurred = boxBlur({ width: smallW, height: smallH, data: pre }, BLUR_RADIUS, BLUR_PASSES);
  const d = blurred.data;
  for (let i = 0; i < d.length; i += 4) {
    const alpha = d[i + 3]!;
    for (let c = 0; c < 3; c++) {
      const straight = alpha === 0 ? 0 : alpha === 255 ? d[i + c]! : (d[i + c]! * 255) / alpha;
      d[i + c] = Math.min(255, Math.round(straight * FIT_BACKGROUND_DARKEN));
    }
  }
  return bilinear(blurred, width, height);
}

/**
 * Bilinear scaling (pixel centres aligned, edges clamped) in plain JavaScript: enough for the blurred padding,
 * which has no detail to ring or alias, and about 8 times faster there than Lanczos3 in the wasm. Integer
 * weights, so both platforms compute the same bytes.
 */
function bilinear(image: RgbaImage, width: number, height: number): RgbaImage {
  const { width: w, height: h, data } = image;
  const axis = (outSize: number, inSize: number) => {
    const index = new Int32Array(outSize);
    const weight = new Int32Array(outSize); // of index + 1, in 1/256
    for (let o = 0; o < outSize; o++) {
      const pos = Math.min(Math.max(((o + 0.5) * inSize) / outSize - 0.5, 0), inSize - 1);
      index[o] = Math.min(Math.floor(pos), inSize - 2 < 0 ? 0 : inSize - 2);
      weight[o] = inSize === 1 ? 0 : Math.round((pos - index[o]!) * 256);
    }
    return { index, weight, step: inSize === 1 ? 0 : 1 };
  };
  const xs = axis(width, w);
  const ys = axis(height, h);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row0 = ys.index[y]! * w * 4;
    const row1 = row0 + ys.step * w * 4;
    const wy = ys.weight[y]!;
    for (let x = 0; x < width; x++) {
      const c0 = xs.index[x]! * 4;
      const c1 = c0 + xs.step * 4;
      const wx = xs.weight[x]!;
      const o = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) {
        const top = data[row0 + c0 + c]! * (256 - wx) + data[row0 + c1 + c]! * wx;
        const bottom = data[row1 + c0 + c]! * (256 - wx) + data[row1 + c1 + c]! * wx;
        out[o + c] = (top * (256 - wy) + bottom * wy + 32768) >> 16;
      }
    }
  }
  return { width, height, data: out };
}

/** `fg` drawn over `bg` at (x, y), straight alpha ("source over"); returns a new image. */
function drawOver(bg: RgbaImage, fg: RgbaImage, x: number, y: number): RgbaImage {
  const out = new Uint8Array(bg.data);
  for (let row = 0; row < fg.height; row++) {
    const src = row * fg.width * 4;
    const dst = ((y + row) * bg.width + x) * 4;
    for (let i = 0; i < fg.width * 4; i += 4) {
      const fa = fg.data[src + i + 3]!;
      if (fa === 255) {
        out[dst + i] = fg.data[src + i]!;
        out[dst + i + 1] = fg.data[src + i + 1]!;
        out[dst + i + 2] = fg.data[src + i + 2]!;
        out[dst + i + 3] = 255;
        continue;
      }
      const ba = (out[dst + i + 3]! * (255 - fa)) / 255;
      const oa = fa + ba;
      for (let c = 0; c < 3; c++) out[dst + i + c] = oa === 0 ? 0 : Math.round((fg.data[src + i + c]! * fa + out[dst + i + c]! * ba) / oa);
      out[dst + i + 3] = Math.round(oa);
    }
  }
  return { width: bg.width, height: bg.height, data: out };
}

/**
 * Contain: the whole image scaled to fit inside `width x height`, centred; the padding is the same image
 * cover-scaled, blurred and darkened (as social apps pad), not a flat colour.
 */
async function contain(image: RgbaImage, width: number, height: number, resize: Resizer): Promise<RgbaImage> {
  const scale = Math.min(width / image.width, height / image.height);
  const fitW = Math.min(width, Math.max(1, Math.round(image.width * scale)));
  const fitH = Math.min(height, Math.max(1, Math.round(image.height * scale)));
  const fitted = await resize(image, fitW, fitH);
  if (fitW === width && fitH === height) return fitted;
  const background = await blurredBackground(image, width, height, resize);
  return drawOver(background, fitted, Math.floor((width - fitW) / 2), Math.floor((height - fitH) / 2));
}

/** @throws EngineError invalid_request naming `fit`. */
export function checkFit(fit: unknown): ExportFit {
  if (!EXPORT_FITS.includes(fit as ExportFit)) throw invalid('fit', `must be one of ${EXPORT_FITS.join(', ')} (got ${describe(fit)})`);
  return fit as ExportFit;
}

function checkFocus(focus: unknown): FocusPoint {
  if (focus === undefined) return { x: 0.5, y: 0.5 };
  if (typeof focus !== 'object' || focus === null) throw invalid('focus', `must be an object { x, y } (got ${describe(focus)})`);
  for (const key of ['x', 'y'] as const) {
    const v = (focus as Record<string, unknown>)[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw invalid(`focus.${key}`, `must be a number from 0 to 1 (got ${describe(v)})`);
  }
  return focus as FocusPoint;
}

/**
 * The generated image at an export size, before the ad copy is laid out on it and the file is encoded.
 * @param image RGBA pixels, straight alpha (not modified).
 * @param size an `EXPORT_SIZES` id; `original` returns `image` itself.
 * @param fit `crop`: scaled to cover the size, the overflow cut evenly (or around `options.focus`); `fit`:
 *   scaled to be wholly visible, centred, on a blurred, darkened (`FIT_BACKGROUND_DARKEN`) cover-scaled copy of
 *   itself. Either way the result is exactly the size's width x height pixels.
 * @param resize the scaler (`squooshResizer` over jSquash's wasm on both sides).
 * @returns new RGBA pixels (or `image` itself when nothing changes).
 * @throws EngineError `invalid_request` naming `image` (not width x height x 4 bytes), `size` (unknown id),
 *   `fit` (not fit/crop) or `focus.x`/`focus.y` (outside 0..1).
 */
export async function resizeForExport(image: RgbaImage, size: ExportSizeId, fit: ExportFit, resize: Resizer, options: ResizeForExportOptions = {}): Promise<RgbaImage> {
  checkImage(image);
  exportSize(size);
  checkFit(fit);
  const focus = checkFocus(options.focus);
  const { width, height } = exportDimensions(size, image);
  if (width === image.width && height === image.height) return image;
  return fit === 'crop' ? cover(image, width, height, resize, focus) : contain(image, width, height, resize);
}
