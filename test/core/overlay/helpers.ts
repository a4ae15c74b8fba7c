/** Shared by the overlay tests: fonts, both rasterisers, test pictures, ink measurement. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initWasm } from '@resvg/resvg-wasm';
import { rasteriseWithResvgWasm } from '../../../src/engine/overlay/resvgWasm.ts';
import type { RgbaImage } from '../../../src/core/image/rgba.ts';
import type { AdCopy, Rasterise, Rect } from '../../../src/core/overlay/index.ts';
import { loadOverlayFonts, rasteriseWithResvgJs } from '../../../server/src/overlay/index.ts';

const require = createRequire(import.meta.url);

export { loadOverlayFonts, rasteriseWithResvgJs };

let wasmReady: Promise<void> | null = null;
/** resvg-wasm run in Node: the browser's rasteriser (src/engine/overlay/resvgWasm.ts), its wasm from node_modules. */
export async function wasmRasteriser(): Promise<Rasterise> {
  wasmReady ??= initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
  await wasmReady;
  return rasteriseWithResvgWasm;
}

/** The product's five aspect ratios at SDXL size. */
export const SIZES: readonly (readonly [string, number, number])[] = [
  ['1:1', 1024, 1024],
  ['3:4', 896, 1152],
  ['4:3', 1152, 896],
  ['16:9', 1344, 768],
  ['9:16', 768, 1344],
];

export const KOREAN: AdCopy = {
  shop_name: '성수 베이커리',
  headline: '갓 구운 크루아상과 바게트, 매일 아침 7시',
  subline: '오늘만 모든 빵 50% 할인 · 아메리카노 4,500원',
  badge: '50% 할인',
  watermark: 'Ad Studio',
};
export const ENGLISH: AdCopy = {
  shop_name: 'Bloom & Stem Flowers',
  headline: 'Fresh bouquets every morning, delivered by noon',
  subline: 'Same-day delivery across Seongsu from 4,500 won',
  badge: '4,500원',
  watermark: 'Ad Studio',
};

export function solid(width: number, height: number, value: number): RgbaImage {
  const data = new Uint8Array(width * height * 4).fill(value);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, data };
}

/** Uniform random bytes per channel (mulberry32, seeded): the busiest possible picture. */
export function noise(width: number, height: number, seed = 1): RgbaImage {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = next() * 256;
    data[i + 1] = next() * 256;
    data[i + 2] = next() * 256;
    data[i + 3] = 255;
  }
  return { width, height, data };
}

/** A colourful diagonal gradient, like a real photo's smooth areas. */
export function gradient(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      data[i] = Math.floor((x * 255) / width);
      data[i + 1] = Math.floor((y * 255) / height);
      data[i + 2] = 160;
      data[i + 3] = 255;
    }
  }
  return { width, height, data };
}

/** The bounding box of the pixels with alpha > `threshold` inside `within` (the whole image by default), or null. */
export function inkBox(image: RgbaImage, within?: Rect, threshold = 0): Rect | null {
  const x0 = within ? Math.max(0, Math.floor(within.x)) : 0;
  const y0 = within ? Math.max(0, Math.floor(within.y)) : 0;
  const x1 = within ? Math.min(image.width, Math.ceil(within.x + within.width)) : image.width;
  const y1 = within ? Math.min(image.height, Math.ceil(within.y + within.height)) : image.height;
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -1;
  let maxY = -1;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (image.data[(y * image.width + x) * 4 + 3]! > threshold) {
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
      }
    }
  }
  return maxX < 0 ? null : { x: minX, y: minY, width: maxX + 1 - minX, height: maxY + 1 - minY };
}
