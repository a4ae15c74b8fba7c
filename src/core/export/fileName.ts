import { EXPORT_SIZES, type ExportSizeId } from './sizes.ts';
import { FORMAT_INFO, type ExportFormat } from './encode.ts';

/** Longest shop-name part of a file name, in user-perceived characters (Hangul syllables count one each). */
export const FILE_NAME_SHOP_MAX = 40;
/** Used when there is no usable shop name. */
export const FILE_NAME_FALLBACK = 'ad';

/** Characters no file system accepts or that browsers' download code rewrites, and invisible format controls. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*\u00ad\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff0-\uffff]/gu;

function graphemes(text: string): string[] {
  const Segmenter = (Intl as { Segmenter?: typeof Intl.Segmenter }).Segmenter;
  return Segmenter ? Array.from(new Segmenter(undefined, { granularity: 'grapheme' }).segment(text), (s) => s.segment) : Array.from(text);
}

/** A shop name as a file-name part: NFC (macOS hands out decomposed Hangul), unsafe characters dropped, spaces as `-`. */
function safeShopName(name: string | undefined): string {
  if (!name) return '';
  const cleaned = name
    .normalize('NFC')
    .replace(UNSAFE, ' ')
    .trim()
    .replace(/\s+/gu, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[.\-]+|[.\-]+$/g, '');
  return graphemes(cleaned).slice(0, FILE_NAME_SHOP_MAX).join('').replace(/[.\-]+$/g, '');
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * The download name of an export: `<shop>-<W>x<H>[-<YYYYMMDD>].<ext>`, e.g. `빵굽는집-1080x1350.jpg`, or with a
 * date `빵굽는집-1080x1350-20250314.jpg`. The shop name is kept in Korean (or any script), NFC-normalised, with
 * characters that are invalid in Windows/macOS/Linux file names and invisible controls removed, whitespace runs
 * as `-`, no leading/trailing dots or dashes, and at most `FILE_NAME_SHOP_MAX` characters; without one
 * (or nothing left of it) it is `ad`. The whole name stays well under 255 UTF-8 bytes.
 * @param size an `EXPORT_SIZES` id, or the pixel size actually exported (use this for `original`, whose id
 *   alone names no size: it is written `original` then).
 * @param date when given, its local calendar date is appended (exports of the same ad on different days differ).
 */
export function exportFileName(shopName: string | undefined, size: ExportSizeId | { width: number; height: number }, format: ExportFormat, date?: Date): string {
  const dims = typeof size === 'object' ? size : EXPORT_SIZES.find((s) => s.id === size);
  const sizePart = dims && dims.width !== undefined ? `${dims.width}x${dims.height}` : 'original';
  const parts = [safeShopName(shopName) || FILE_NAME_FALLBACK, sizePart];
  if (date && !Number.isNaN(date.getTime())) parts.push(`${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}`);
  return `${parts.join('-')}.${FORMAT_INFO[format].extension}`;
}
