/** The advertising copy and its validation. */
import { EngineError } from '../errors.ts';
import { OVERLAY_TEMPLATES, type OverlayTemplate } from './templates.ts';

/** The text laid over the picture; every field optional, Korean or English. */
export interface AdCopy {
  /** The shop's name, one line (e.g. "성수 베이커리"). */
  shop_name?: string;
  /** The main line, up to three lines (a `\n` forces a break). */
  headline?: string;
  /** A supporting line, up to two lines. */
  subline?: string;
  /** A price or discount shown in a pill (e.g. "50% 할인", "4,500원"). */
  badge?: string;
  /** Small text in the bottom-right corner (e.g. "Ad Studio"). */
  watermark?: string;
  /** Where the text block sits; the aspect ratio's default when absent. */
  template?: OverlayTemplate;
}

export const TEXT_FIELDS = ['shop_name', 'headline', 'subline', 'badge', 'watermark'] as const;
export type TextField = (typeof TEXT_FIELDS)[number];

/** Most characters (Unicode code points) per field. */
export const COPY_LIMITS: Readonly<Record<TextField, number>> = { shop_name: 40, headline: 60, subline: 80, badge: 16, watermark: 24 };
/** Most forced line breaks (`\n`) per field. */
const MAX_NEWLINES: Readonly<Record<TextField, number>> = { shop_name: 0, headline: 2, subline: 1, badge: 0, watermark: 0 };

/** The copy with each text trimmed (inner runs of spaces kept as one) and empty fields removed. */
export type NormalisedCopy = Partial<Record<TextField, string>> & { template?: OverlayTemplate };

/**
 * Checks and normalises the copy: each field a string within its limit (`COPY_LIMITS`), no control
 * characters (a `\n` only where the field allows line breaks), a known template.
 * @throws EngineError `invalid_request` with one issue per bad field (`headline: at most 60 characters (got 75)`).
 */
export function validateAdCopy(copy: AdCopy): NormalisedCopy {
  const issues: { field: string; message: string }[] = [];
  const out: NormalisedCopy = {};
  if (copy === null || typeof copy !== 'object') throw new EngineError('invalid_request', 'ad copy: must be an object', [{ field: 'copy', message: 'must be an object' }]);
  for (const field of TEXT_FIELDS) {
    const value: unknown = copy[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') {
      issues.push({ field, message: `must be a string (got ${typeof value})` });
      continue;
    }
    const text = value
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((line) => line.replace(/[^\S\n]+/g, ' ').trim())
      .join('\n')
      .trim();
    if (!text) continue;
    const length = [...text].length;
    if (length > COPY_LIMITS[field]) issues.push({ field, message: `at most ${COPY_LIMITS[field]} characters (got ${length})` });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(text)) issues.push({ field, message: 'must not contain control characters' });
    const newlines = text.split('\n').length - 1;
    if (newlines > MAX_NEWLINES[field]) {
      issues.push({ field, message: MAX_NEWLINES[field] === 0 ? 'must be one line (no line breaks)' : `at most ${MAX_NEWLINES[field]} line breaks (got ${newlines})` });
    }
    out[field] = text;
  }
  if (copy.template !== undefined) {
    if (!(OVERLAY_TEMPLATES as readonly unknown[]).includes(copy.template)) {
      issues.push({ field: 'template', message: `must be one of ${OVERLAY_TEMPLATES.join(', ')} (got ${JSON.stringify(copy.template)})` });
    } else out.template = copy.template;
  }
  if (issues.length) throw new EngineError('invalid_request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  return out;
}

/** True when the copy has no text to draw. */
export function isEmptyCopy(copy: NormalisedCopy): boolean {
  return TEXT_FIELDS.every((field) => !copy[field]);
}
