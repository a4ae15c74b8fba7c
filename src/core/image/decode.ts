import { convertIndexedToRgb, decode as decodePng } from 'fast-png';
import { decode as decodeJpeg } from 'jpeg-js';
import { RequestValidationError } from '../request.ts';
import { applyOrientation, jpegOrientation } from './exif.ts';

/** 8-bit RGB pixels, row-major, 3 bytes per pixel. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Limits on a reference image, in bytes and pixels. */
export const IMAGE_LIMITS = {
  /** Decoded file size (the data URL is about 4/3 of this). */
  maxBytes: 10 * 1024 * 1024,
  maxSide: 8192,
  maxPixels: 24_000_000,
} as const;

export const IMAGE_TYPES = ['image/png', 'image/jpeg'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

const bad = (message: string) => new RequestValidationError([{ field: 'image', message }]);

/** The file type from its first bytes (PNG signature, JPEG SOI marker), or undefined. */
export function sniffImageType(bytes: Uint8Array): ImageType | undefined {
  if (bytes.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => bytes[i] === b)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

/** Base64 to bytes without DOM or Node APIs. @throws RequestValidationError for invalid base64. */
function base64ToBytes(text: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const clean = text.replace(/[\s=]+$/g, '').replace(/\s/g, '');
  if (!/^[A-Za-z0-9+/]*$/.test(clean)) throw bad('is not valid base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let buffer = 0;
  let bits = 0;
  let o = 0;
  for (const ch of clean) {
    buffer = (buffer << 6) | alphabet.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/**
 * The reference image of a request: a `data:image/png;base64,...` or `data:image/jpeg;base64,...` URL.
 * @returns the file bytes and their (sniffed) type.
 * @throws RequestValidationError naming `image`: not a data URL, an unsupported type, a type that does not
 *   match the content, or more than `IMAGE_LIMITS.maxBytes`.
 */
export function parseImageDataUrl(url: string): { type: ImageType; bytes: Uint8Array } {
  const match = /^data:([a-z]+\/[a-z0-9.+-]+);base64,/i.exec(url.slice(0, 100));
  if (!match) throw bad('must be a data URL (data:image/png;base64,... or data:image/jpeg;base64,...)');
  const declared = match[1]!.toLowerCase();
  if (!IMAGE_TYPES.includes(declared as ImageType)) throw bad(`type ${declared} is not supported (use ${IMAGE_TYPES.join(' or ')})`);
  const encodedBytes = ((url.length - match[0].length) * 3) / 4;
  if (encodedBytes > IMAGE_LIMITS.maxBytes * 1.01) throw bad(`is ${(encodedBytes / 1048576).toFixed(1)} MiB; the limit is ${IMAGE_LIMITS.maxBytes / 1048576} MiB`);
  const bytes = base64ToBytes(url.slice(match[0].length));
  if (bytes.length > IMAGE_LIMITS.maxBytes) throw bad(`is ${(bytes.length / 1048576).toFixed(1)} MiB; the limit is ${IMAGE_LIMITS.maxBytes / 1048576} MiB`);
  const actual = sniffImageType(bytes);
  if (!actual) throw bad(`declared ${declared} but the data is not a PNG or JPEG file`);
  if (actual !== declared) throw bad(`declared ${declared} but the data is ${actual}`);
  return { type: actual, bytes };
}

function checkDimensions(width: number, height: number): void {
  if (width < 1 || height < 1) throw bad('has no pixels');
  if (width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide) {
    throw bad(`is ${width}x${height} pixels; each side must be at most ${IMAGE_LIMITS.maxSide}`);
  }
  if (width * height > IMAGE_LIMITS.maxPixels) {
    throw bad(`has ${((width * height) / 1e6).toFixed(1)} million pixels; the limit is ${IMAGE_LIMITS.maxPixels / 1e6} million`);
  }
}

/** PNG -> RGB as Pillow's `Image.open(...).convert("RGB")`: 16-bit samples keep the high byte, alpha is dropped. */
function pngToRgb(bytes: Uint8Array): RgbImage {
  const png = decodePng(bytes);
  checkDimensions(png.width, png.height);
  let data = png.data as Uint8Array | Uint16Array;
  let channels = png.channels;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  }
  const max = png.palette ? 255 : 2 ** png.depth - 1;
  const to8 = png.depth === 16 && !png.palette ? (v: number) => v >> 8 : png.depth < 8 && !png.palette ? (v: number) => Math.round((v * 255) / max) : (v: number) => v;
  const n = png.width * png.height;
  const rgb = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < 3; c++) {
      const source = channels >= 3 ? p * channels + c : p * channels; // gray (+ alpha) replicates
      rgb[p * 3 + c] = to8(data[source]!);
    }
  }
  return { width: png.width, height: png.height, data: rgb };
}

/** JPEG -> RGB with jpeg-js, turned upright by its EXIF orientation (as diffusers' `load_image`). */
function jpegToRgb(bytes: Uint8Array): RgbImage {
  let jpeg: { width: number; height: number; data: Uint8Array };
  try {
    jpeg = decodeJpeg(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: IMAGE_LIMITS.maxPixels / 1e6, maxMemoryUsageInMB: 1024 });
  } catch (error) {
    throw bad(`could not be decoded as JPEG (${(error as Error).message})`);
  }
  checkDimensions(jpeg.width, jpeg.height);
  return applyOrientation({ width: jpeg.width, height: jpeg.height, data: jpeg.data }, jpegOrientation(bytes));
}

/** Width and height from a PNG IHDR chunk or a JPEG start-of-frame marker, without decoding pixels. */
function headerDimensions(bytes: Uint8Array, type: ImageType): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === 'image/png') return bytes.length >= 24 ? { width: view.getUint32(16), height: view.getUint32(20) } : undefined;
  let pos = 2;
  while (pos + 9 < bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: view.getUint16(pos + 5), width: view.getUint16(pos + 7) };
    }
    pos += 2 + view.getUint16(pos + 2);
  }
  return undefined;
}

/**
 * Checks a request's reference image without decoding it: a PNG or JPEG data URL within the byte limit whose
 * header dimensions are within the pixel limits. The server runs it at submission; the pipeline decodes later.
 * @returns the type, the header's width and height in pixels, and the file size in bytes.
 * @throws RequestValidationError naming `image`.
 */
export function checkReferenceImage(dataUrl: string): { type: ImageType; width: number; height: number; bytes: number } {
  const { type, bytes } = parseImageDataUrl(dataUrl);
  return { type, ...headerSize(bytes, type), bytes: bytes.length };
}

/**
 * Width and height in pixels from a PNG or JPEG header, checked against `IMAGE_LIMITS` without decoding.
 * @throws RequestValidationError naming `image` when no dimensions are found or they are over the limits.
 */
export function headerSize(bytes: Uint8Array, type: ImageType): { width: number; height: number } {
  const size = headerDimensions(bytes, type);
  if (!size) throw bad(`is a truncated ${type} file (no image dimensions found)`);
  checkDimensions(size.width, size.height);
  return size;
}

/**
 * Decodes a PNG or JPEG file to 8-bit RGB, the same way in the browser and on the server.
 * @throws RequestValidationError naming `image` for an undecodable file or one over the pixel limits.
 */
export function decodeImage(bytes: Uint8Array): RgbImage {
  const type = sniffImageType(bytes);
  if (type === 'image/png') {
    try {
      return pngToRgb(bytes);
    } catch (error) {
      if (error instanceof RequestValidationError) throw error;
      throw bad(`could not be decoded as PNG (${(error as Error).message})`);
    }
  }
  if (type === 'image/jpeg') return jpegToRgb(bytes);
  throw bad('is not a PNG or JPEG file');
}
