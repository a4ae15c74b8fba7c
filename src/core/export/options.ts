import { EngineError } from '../errors.ts';
import { checkFormat, checkQuality, type ExportFormat } from './encode.ts';
import { checkFit, type ExportFit } from './resize.ts';
import { exportSize, type ExportSizeId } from './sizes.ts';

/** What the user picked for one export. */
export interface ExportOptions {
  size: ExportSizeId;
  fit: ExportFit;
  format: ExportFormat;
  /** 1-100, JPEG and WebP only; default 90. */
  quality?: number;
}

/**
 * Checks export options from the network or a form, reporting every bad field at once.
 * @throws EngineError `invalid_request` with one issue per bad field (`size`, `fit`, `format`, `quality`), the
 *   message `field: problem (got value)` joined by `; `.
 */
export function checkExportOptions(input: unknown): ExportOptions {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const issues: { field: string; message: string }[] = [];
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      if (error instanceof EngineError && error.issues) issues.push(...error.issues);
      else throw error;
    }
  };
  attempt(() => exportSize(o.size as string));
  attempt(() => checkFit(o.fit));
  attempt(() => checkFormat(o.format));
  attempt(() => checkQuality(o.quality));
  if (issues.length) throw new EngineError('invalid_request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  return { size: o.size as ExportSizeId, fit: o.fit as ExportFit, format: o.format as ExportFormat, ...(o.quality !== undefined ? { quality: o.quality as number } : {}) };
}
