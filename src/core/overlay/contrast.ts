/**
 * WCAG 2.x relative luminance and contrast ratio, and the scrim strength that makes text readable over the
 * actual pixels behind it.
 */
import type { RgbaImage } from '../image/rgba.ts';
import { scrimmedChannel } from './composite.ts';

/** sRGB 8-bit channel -> linear light, 0..1 (WCAG 2.x formula). */
export const LINEAR: Float64Array = (() => {
  const table = new Float64Array(256);
  for (let c = 0; c < 256; c++) {
    const s = c / 255;
    table[c] = s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }
  return table;
})();

export type Rgb = readonly [number, number, number];

/** WCAG relative luminance of an sRGB colour, 0 (black) .. 1 (white). */
export function relativeLuminance([r, g, b]: Rgb): number {
  return 0.2126 * LINEAR[r]! + 0.7152 * LINEAR[g]! + 0.0722 * LINEAR[b]!;
}

/** WCAG contrast ratio of two luminances, 1..21. */
export function contrastRatio(l1: number, l2: number): number {
  return (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
}

/** A rectangle in pixels: left/top inclusive, `x + width` / `y + height` exclusive. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The rectangle clipped to the image and snapped outwards to whole pixels. */
export function pixelRect(rect: Rect, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  return {
    x0: Math.max(0, Math.floor(rect.x)),
    y0: Math.max(0, Math.floor(rect.y)),
    x1: Math.min(width, Math.ceil(rect.x + rect.width)),
    y1: Math.min(height, Math.ceil(rect.y + rect.height)),
  };
}

/**
 * The lowest contrast ratio between `text` and any pixel of `rect` once a scrim of `scrim` colour at alpha
 * `alpha` (0..255) is blended over the (opaque) picture: the same integer blend as `applyScrim`.
 * Stops early and returns the first value under `stopBelow` when given.
 */
export function worstContrast(image: RgbaImage, rect: Rect, text: Rgb, scrim: Rgb, alpha: number, stopBelow = 0): number {
  const lText = relativeLuminance(text);
  const { x0, y0, x1, y1 } = pixelRect(rect, image.width, image.height);
  const { data, width } = image;
  // per channel: the scrimmed value of every input byte (256 entries each)
  const maps = scrim.map((s) => {
    const m = new Uint8Array(256);
    for (let c = 0; c < 256; c++) m[c] = scrimmedChannel(c, s, alpha);
    return m;
  }) as [Uint8Array, Uint8Array, Uint8Array];
  let worst = 21;
  for (let y = y0; y < y1; y++) {
    for (let i = (y * width + x0) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
      const l = 0.2126 * LINEAR[maps[0][data[i]!]!]! + 0.7152 * LINEAR[maps[1][data[i + 1]!]!]! + 0.0722 * LINEAR[maps[2][data[i + 2]!]!]!;
      const ratio = contrastRatio(lText, l);
      if (ratio < worst) {
        worst = ratio;
        if (worst < stopBelow) return worst;
      }
    }
  }
  return worst;
}

/**
 * The smallest scrim alpha (0..255) for which every pixel of `rect` has at least `target` contrast against
 * `text`, or 255 when even that is not enough (a scrim colour too close to the text colour).
 * Binary search: the contrast only grows with the alpha of a scrim that contrasts with the text.
 */
export function requiredScrimAlpha(image: RgbaImage, rect: Rect, text: Rgb, scrim: Rgb, target: number): number {
  if (worstContrast(image, rect, text, scrim, 0, target) >= target) return 0;
  let lo = 0; // fails
  let hi = 255;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (worstContrast(image, rect, text, scrim, mid, target) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Mean relative luminance of the pixels of `rect` (0..1); 0 for an empty rectangle. */
export function meanLuminance(image: RgbaImage, rect: Rect): number {
  const { x0, y0, x1, y1 } = pixelRect(rect, image.width, image.height);
  const { data, width } = image;
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let i = (y * width + x0) * 4, end = (y * width + x1) * 4; i < end; i += 4) {
      sum += 0.2126 * LINEAR[data[i]!]! + 0.7152 * LINEAR[data[i + 1]!]! + 0.0722 * LINEAR[data[i + 2]!]!;
      n++;
    }
  }
  return n ? sum / n : 0;
}
