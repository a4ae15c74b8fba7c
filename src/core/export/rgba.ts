/**
 * The export module's pixels are the project's `RgbaImage` (`src/core/image/rgba.ts`): 8-bit RGBA, row-major,
 * straight alpha, `data.length === width * height * 4`. Only the type is used (erased at run time).
 */
export type { RgbaImage } from '../image/rgba.ts';
