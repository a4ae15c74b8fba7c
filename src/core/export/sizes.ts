import { describe, invalid } from './errors.ts';

/**
 * The sizes an ad can be exported at, in pixels. `label` is a translation key for the UI (the use the size is
 * made for); `original` keeps the generated image's own size.
 */
export const EXPORT_SIZES = [
  { id: '1080x1080', width: 1080, height: 1080, label: 'instagram_square' },
  { id: '1080x1350', width: 1080, height: 1350, label: 'instagram_portrait' },
  { id: '1080x1920', width: 1080, height: 1920, label: 'story_reels' },
  { id: '1200x628', width: 1200, height: 628, label: 'facebook_link' },
  { id: 'original', width: undefined, height: undefined, label: 'original' },
] as const;

export type ExportSize = (typeof EXPORT_SIZES)[number];
export type ExportSizeId = ExportSize['id'];
export const EXPORT_SIZE_IDS: readonly ExportSizeId[] = EXPORT_SIZES.map((s) => s.id);

/** The size with this id. @throws EngineError invalid_request naming `field` (default `size`) for an unknown id. */
export function exportSize(id: string, field = 'size'): ExportSize {
  const size = EXPORT_SIZES.find((s) => s.id === id);
  if (!size) throw invalid(field, `must be one of ${EXPORT_SIZE_IDS.join(', ')} (got ${describe(id)})`);
  return size;
}

/**
 * Width and height in pixels of an export at `id` from an image of `source` size (`original` is the source size).
 * @throws EngineError invalid_request naming `size` for an unknown id.
 */
export function exportDimensions(id: ExportSizeId, source: { width: number; height: number }): { width: number; height: number } {
  const size = exportSize(id);
  return size.width === undefined ? { width: source.width, height: source.height } : { width: size.width, height: size.height };
}
