/**
 * Export of a finished ad: the generated image at a social-media size (`resizeForExport`), then, after the ad
 * copy is laid out again at that size elsewhere, the file (`encodeImage`) and its name (`exportFileName`).
 * Platform-free: the jSquash wasm (resize and codecs) is injected, initialised by `server/src/export/codecs.ts`
 * in Node and `src/lib/export/codecs.ts` in the browser.
 */
export type { RgbaImage } from './rgba.ts';
export { EXPORT_SIZES, EXPORT_SIZE_IDS, exportSize, exportDimensions, type ExportSize, type ExportSizeId } from './sizes.ts';
export { resizeForExport, squooshResizer, checkFit, EXPORT_FITS, FIT_BACKGROUND_DARKEN, type ExportFit, type Resizer, type SquooshResize, type FocusPoint, type ResizeForExportOptions } from './resize.ts';
export { encodeImage, flattenOntoWhite, checkFormat, checkQuality, EXPORT_FORMATS, FORMAT_INFO, DEFAULT_QUALITY, QUALITY_RANGE, type ExportFormat, type ExportCodecs, type CodecImageData, type EncodedImage } from './encode.ts';
export { exportFileName, FILE_NAME_SHOP_MAX, FILE_NAME_FALLBACK } from './fileName.ts';
export { checkExportOptions, type ExportOptions } from './options.ts';
