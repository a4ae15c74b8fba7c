/**
 * The finished ad in the page: the generated picture with the ad copy laid over it at full resolution, laid out
 * again whenever the copy is edited (without generating again), and exported at a social-media size and format.
 * Uses the same core code as the worker and the server: `src/core/overlay` (satori + resvg-wasm) and
 * `src/core/export` (jSquash).
 */
import { decode } from 'fast-png';
import { encodePng } from '../../core/image/png.ts';
import type { RgbaImage } from '../../core/image/rgba.ts';
import type { ExportFit, ExportFormat, ExportSizeId } from '../../core/export/index.ts';
import type { AdCopy } from '../../core/overlay/copy.ts';
import type { HistoryEntry } from '../history/historyStore.ts';

/**
 * The overlay (satori, resvg-wasm, Pretendard) and export (jSquash) code, loaded on first use: they are not
 * needed to open the page or to generate.
 */
const overlay = () => Promise.all([import('../../core/overlay/index.ts'), import('../../engine/overlay/index.ts')]);
const exporter = () => Promise.all([import('../../core/export/index.ts'), import('../export/codecs.ts')]);
import type { DraftCopy } from './draft.ts';

/** The mark the optional watermark writes. */
export const WATERMARK_TEXT = 'Ad Studio';

/** Export choices (see src/core/export). */
export interface ExportChoice {
  size: ExportSizeId;
  fit: ExportFit;
  format: ExportFormat;
  watermark: boolean;
}

/** The copy as the overlay takes it: empty fields left out. */
export function adCopy(copy: DraftCopy, watermark = false): AdCopy {
  const out: AdCopy = {};
  for (const [field, value] of Object.entries(copy) as [keyof DraftCopy, string][]) if (value.trim()) out[field] = value;
  if (watermark) out.watermark = WATERMARK_TEXT;
  return out;
}

/** Decodes a PNG to 8-bit straight-alpha RGBA (fast-png; gray, RGB and 16-bit PNGs converted). */
export function pngToRgba(png: ArrayBuffer | Uint8Array): RgbaImage {
  const image = decode(png instanceof Uint8Array ? png : new Uint8Array(png));
  const { width, height, channels, depth } = image;
  const source = image.data;
  const data = new Uint8Array(width * height * 4);
  const shift = depth === 16 ? 8 : 0;
  for (let i = 0, j = 0; i < width * height; i++, j += channels) {
    const v = (k: number) => (source[j + k]! >> shift) & 255;
    const gray = channels <= 2;
    data[i * 4] = v(0);
    data[i * 4 + 1] = gray ? v(0) : v(1);
    data[i * 4 + 2] = gray ? v(0) : v(2);
    data[i * 4 + 3] = channels === 4 ? v(3) : channels === 2 ? v(1) : 255;
  }
  return { width, height, data };
}

/** The picture without copy: the raw image when the workflow laid copy over it, else the image itself. */
export const rawPng = (entry: HistoryEntry): ArrayBuffer => entry.rawPng ?? entry.png;

/**
 * Lays `copy` over `entry`'s raw picture at its full resolution.
 * @returns the PNG (the raw one when the copy is empty).
 * @throws EngineError `invalid_request` naming the copy field over its limit.
 */
export async function composeAd(entry: HistoryEntry, copy: AdCopy): Promise<Uint8Array> {
  const raw = rawPng(entry);
  const [{ isEmptyCopy, renderAdCopy, validateAdCopy }, { browserRasteriser, loadOverlayFonts }] = await overlay();
  if (isEmptyCopy(validateAdCopy(copy))) return new Uint8Array(raw);
  const [fonts, rasterise] = await Promise.all([loadOverlayFonts(), browserRasteriser()]);
  const out = await renderAdCopy(copy, pngToRgba(raw), { fonts, rasterise });
  return encodePng(out.data, out.width, out.height);
}

/**
 * The file for `choice`: the raw picture fitted or cropped to the size, the copy (and watermark) laid out again
 * at that size, encoded as PNG, JPEG or WebP.
 * @returns the file's bytes, MIME type and a name such as "아침빵집-1080x1350.jpg".
 */
export async function exportAd(entry: HistoryEntry, copy: DraftCopy, choice: ExportChoice): Promise<{ bytes: Uint8Array; mime: string; name: string }> {
  const [[{ encodeImage, exportFileName, resizeForExport }, { browserExportCodecs, browserExportResizer }], [{ isEmptyCopy, renderAdCopy, validateAdCopy }, { browserRasteriser, loadOverlayFonts }]] = await Promise.all([exporter(), overlay()]);
  const [resizer, codecs, fonts, rasterise] = await Promise.all([browserExportResizer(), browserExportCodecs(), loadOverlayFonts(), browserRasteriser()]);
  const sized = await resizeForExport(pngToRgba(rawPng(entry)), choice.size, choice.fit, resizer);
  const text = adCopy(copy, choice.watermark);
  const final = isEmptyCopy(validateAdCopy(text)) ? sized : await renderAdCopy(text, sized, { fonts, rasterise });
  const encoded = await encodeImage(final, choice.format, codecs);
  return { bytes: encoded.bytes, mime: encoded.mime, name: exportFileName(copy.shop_name || undefined, { width: final.width, height: final.height }, choice.format) };
}
