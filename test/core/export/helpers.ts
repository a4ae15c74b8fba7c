import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { inflateSync } from 'node:zlib';
import type { RgbaImage } from '../../../src/core/export/index.ts';

/**
 * Position encoded as colour: R = x / (width - 1), G = y / (height - 1) in 0..255, B = 128, opaque. Smooth,
 * so a resampled pixel's value says which source position it came from (to about a pixel).
 */
export function positionImage(width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 4;
      data[p] = Math.round((255 * x) / (width - 1));
      data[p + 1] = Math.round((255 * y) / (height - 1));
      data[p + 2] = 128;
      data[p + 3] = 255;
    }
  }
  return { width, height, data };
}

/**
 * A deterministic photo-like picture: a sky-to-ground gradient, soft-edged discs (a "product"), fine diagonal
 * texture and low-amplitude grain. Compresses like a photograph (PNG poorly, JPEG/WebP well).
 */
export function photoImage(width: number, height: number, seed = 1): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let state = seed >>> 0 || 1;
  const random = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
  const discs = [
    { cx: 0.5, cy: 0.55, r: 0.28, rgb: [214, 150, 72] },
    { cx: 0.3, cy: 0.35, r: 0.12, rgb: [240, 220, 190] },
    { cx: 0.72, cy: 0.7, r: 0.15, rgb: [120, 60, 40] },
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      let rgb = [90 + 120 * (1 - v), 140 + 60 * (1 - v), 200 - 90 * v];
      for (const d of discs) {
        const dist = Math.hypot(u - d.cx, (v - d.cy) * (height / width)) / d.r;
        const t = Math.min(1, Math.max(0, (1 - dist) * 12)); // soft edge
        const shade = 0.75 + 0.25 * Math.cos(dist * 2.2);
        rgb = rgb.map((c, i) => c * (1 - t) + d.rgb[i]! * shade * t);
      }
      const texture = 10 * Math.sin((x + y) * 0.35) * Math.sin(x * 0.05);
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) data[p + c] = Math.min(255, Math.max(0, Math.round(rgb[c]! + texture + (random() - 0.5) * 12)));
      data[p + 3] = 255;
    }
  }
  return { width, height, data };
}

/** PSNR in dB over the RGB channels of two same-size RGBA byte arrays (Infinity when equal). */
export function psnr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`sizes differ: ${a.length} vs ${b.length}`);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i]! - b[i]!;
    sum += d * d;
    n++;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / n));
}

/** The RGBA pixels of the rectangle (x, y, width, height) of an image. */
export function region(image: RgbaImage, x: number, y: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let row = 0; row < height; row++) out.set(image.data.subarray(((y + row) * image.width + x) * 4, ((y + row) * image.width + x + width) * 4), row * width * 4);
  return out;
}

const require = createRequire(import.meta.url);
const compile = async (specifier: string) => WebAssembly.compile(await readFile(require.resolve(specifier)));
type Decode = (bytes: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
type Init = (module: WebAssembly.Module) => Promise<unknown>;

/** jSquash's PNG, JPEG and WebP decoders, initialised from node_modules (as the encoders are). */
export async function nodeDecoders(): Promise<Record<'png' | 'jpeg' | 'webp', (bytes: Uint8Array) => Promise<RgbaImage>>> {
  const [png, jpeg, webp] = await Promise.all([import('@jsquash/png/decode.js'), import('@jsquash/jpeg/decode.js'), import('@jsquash/webp/decode.js')]);
  await (png.init as Init)(await compile('@jsquash/png/codec/pkg/squoosh_png_bg.wasm'));
  await (jpeg.init as unknown as Init)(await compile('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm'));
  await (webp.init as unknown as Init)(await compile('@jsquash/webp/codec/dec/webp_dec.wasm'));
  const wrap = (decode: Decode) => async (bytes: Uint8Array) => {
    const image = await decode(bytes.slice().buffer);
    return { width: image.width, height: image.height, data: new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.length) };
  };
  return { png: wrap(png.default as unknown as Decode), jpeg: wrap(jpeg.default as unknown as Decode), webp: wrap(webp.default as unknown as Decode) };
}

/** Index of the first differing byte of two arrays, -1 when equal (vitest's toEqual is slow on megabytes). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (Buffer.compare(a, b) === 0) return -1;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/**
 * A minimal independent PNG reader for 8-bit RGBA, non-interlaced files (Node's zlib and the five PNG filters),
 * to check the encoder without trusting a second wasm. (fast-png 8.0.0 rejects some valid files jSquash writes,
 * "Unsupported filter: undefined", though zlib inflates their IDAT to the right length with valid filter bytes.)
 */
export function readRgbaPng(bytes: Uint8Array): RgbaImage {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let width = 0;
  let height = 0;
  for (let pos = 8; pos < bytes.length; ) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (type === 'IHDR') {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
      if (bytes[pos + 16] !== 8 || bytes[pos + 17] !== 6 || bytes[pos + 20] !== 0) throw new Error('not 8-bit RGBA non-interlaced');
    }
    if (type === 'IDAT') idat.push(bytes.subarray(pos + 8, pos + 8 + length));
    pos += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 4;
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!;
      const a = i >= 4 ? out[y * stride + i - 4]! : 0;
      const b = y > 0 ? out[(y - 1) * stride + i]! : 0;
      const c = i >= 4 && y > 0 ? out[(y - 1) * stride + i - 4]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      if (predictor === undefined) throw new Error(`row ${y}: filter ${filter}`);
      out[y * stride + i] = (x + predictor) & 255;
    }
  }
  return { width, height, data: out };
}
