/**
 * The overlay's Node side: Pretendard read from node_modules and resvg-js as the rasteriser. Use with
 * `renderAdCopy(copy, image, { fonts: await loadOverlayFonts(), rasterise: rasteriseWithResvgJs })`.
 */
import { loadOnce } from '../../../src/core/loadOnce.ts';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Resvg } from '@resvg/resvg-js';
import type { OverlayFonts, Rasterise } from '../../../src/core/overlay/index.ts';

const require = createRequire(import.meta.url);

/** Paths of the Pretendard OTFs (OFL-1.1) the overlay draws with, inside the `pretendard` package. */
export const PRETENDARD_FILES = {
  regular: 'pretendard/dist/public/static/Pretendard-Regular.otf',
  bold: 'pretendard/dist/public/static/Pretendard-Bold.otf',
} as const;

const toArrayBuffer = (bytes: Buffer): ArrayBuffer => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;

/** Pretendard Regular and Bold from node_modules (read once, then the same object). */
export const loadOverlayFonts: () => Promise<OverlayFonts> = loadOnce(async () => {
  const [regular, bold] = await Promise.all([readFile(require.resolve(PRETENDARD_FILES.regular)), readFile(require.resolve(PRETENDARD_FILES.bold))]);
  return { regular: toArrayBuffer(regular), bold: toArrayBuffer(bold) };
});

/** resvg-js (native) rasteriser: premultiplied RGBA at the SVG's size, no system fonts. */
export const rasteriseWithResvgJs: Rasterise = async (svg) => {
  const rendered = new Resvg(svg, { font: { loadSystemFonts: false }, fitTo: { mode: 'original' } }).render();
  return { width: rendered.width, height: rendered.height, rgba: new Uint8Array(rendered.pixels.buffer, rendered.pixels.byteOffset, rendered.pixels.byteLength) };
};
