import { checkImage, describe, invalid } from './errors.ts';
import type { RgbaImage } from './rgba.ts';

export type ExportFormat = 'png' | 'jpeg' | 'webp';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['png', 'jpeg', 'webp'];

/** MIME type and file extension (without the dot) of each format. */
export const FORMAT_INFO: Readonly<Record<ExportFormat, { mime: string; extension: string }>> = {
  png: { mime: 'image/png', extension: 'png' },
  jpeg: { mime: 'image/jpeg', extension: 'jpg' },
  webp: { mime: 'image/webp', extension: 'webp' },
};

/** Quality (1-100) when none is given: mozjpeg 90, libwebp 90. PNG is always lossless and takes none. */
export const DEFAULT_QUALITY = { jpeg: 90, webp: 90 } as const;
export const QUALITY_RANGE = { min: 1, max: 100 } as const;

/**
 * What jSquash's encoders read from the `ImageData` they are given (`data`, `width`, `height`; nothing else),
 * so Node needs no ImageData polyfill. `data` is a Uint8ClampedArray that owns its whole buffer: the PNG
 * encoder reads `data.buffer`, not the view.
 */
export interface CodecImageData {
  readonly data: Uint8ClampedArray<ArrayBuffer>;
  /** Pixels. */
  readonly width: number;
  /** Pixels. */
  readonly height: number;
  readonly colorSpace: 'srgb';
}

/**
 * The encoders, injected so `src/core` stays free of platform code: the same jSquash wasm initialised for Node
 * (`server/src/export/codecs.ts`) or for the browser (`src/lib/export/codecs.ts`). Each is jSquash's `encode`
 * of that format, given the options core chooses (other options at jSquash's defaults: mozjpeg progressive with
 * optimised Huffman tables and 4:2:0 chroma; libwebp method 4, lossy). Each returns the file's bytes.
 */
export interface ExportCodecs {
  /** `@jsquash/png` encode: lossless, 8 bits per channel RGBA. */
  png(image: CodecImageData): Promise<ArrayBuffer>;
  /** `@jsquash/jpeg` encode (mozjpeg). The image is already opaque. */
  jpeg(image: CodecImageData, options: { quality: number }): Promise<ArrayBuffer>;
  /** `@jsquash/webp` encode (libwebp), lossy with alpha. */
  webp(image: CodecImageData, options: { quality: number }): Promise<ArrayBuffer>;
}

/** An encoded export file. */
export interface EncodedImage {
  bytes: Uint8Array;
  /** `image/png`, `image/jpeg` or `image/webp`. */
  mime: string;
  /** `png`, `jpg` or `webp`, without the dot. */
  extension: string;
}

/** @throws EngineError invalid_request naming `format`. */
export function checkFormat(format: unknown): ExportFormat {
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) throw invalid('format', `must be one of ${EXPORT_FORMATS.join(', ')} (got ${describe(format)})`);
  return format as ExportFormat;
}

/** @throws EngineError invalid_request naming `quality` unless it is undefined or an integer from 1 to 100. */
export function checkQuality(quality: unknown): number | undefined {
  if (quality === undefined) return undefined;
  if (typeof quality !== 'number' || !Number.isInteger(quality) || quality < QUALITY_RANGE.min || quality > QUALITY_RANGE.max) {
    throw invalid('quality', `must be an integer from ${QUALITY_RANGE.min} to ${QUALITY_RANGE.max} (got ${describe(quality)})`);
  }
  return quality;
}

/** The pixels as the encoders want them: a clamped view owning its buffer (no copy when the data already does). */
function codecImage(image: RgbaImage): CodecImageData {
  const { data } = image;
  const owns = data.byteOffset === 0 && data.buffer instanceof ArrayBuffer && data.byteLength === data.buffer.byteLength;
  const clamped = owns ? new Uint8ClampedArray(data.buffer as ArrayBuffer, 0, data.length) : new Uint8ClampedArray(data);
  return { data: clamped, width: image.width, height: image.height, colorSpace: 'srgb' };
}

/** The image composited onto white (JPEG has no alpha); the image itself when it is opaque. */
export function flattenOntoWhite(image: RgbaImage): RgbaImage {
  const { data } = image;
  let opaque = true;
  for (let i = 3; i < data.length; i += 4) {
    if (data[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return image;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3]!;
    for (let c = 0; c < 3; c++) out[i + c] = Math.round((data[i + c]! * a + 255 * (255 - a)) / 255);
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}

/**
 * Encodes the finished ad (already at its export size, copy laid out) as a file.
 * @param image RGBA pixels, straight alpha; not modified. JPEG flattens it onto white first.
 * @param format `png` (lossless), `jpeg` (mozjpeg) or `webp` (lossy libwebp; alpha kept).
 * @param codecs the jSquash encoders for this platform.
 * @param quality 1-100 for JPEG and WebP (default `DEFAULT_QUALITY`, 90); checked but unused for PNG.
 * @returns the file's bytes, its MIME type and its extension. The same pixels give the same bytes.
 * @throws EngineError `invalid_request` naming `image` (not width x height x 4 bytes), `format` (unknown) or
 *   `quality` (not an integer 1-100); an encoder's own failure propagates as thrown (`internal`).
 */
export async function encodeImage(image: RgbaImage, format: ExportFormat, codecs: ExportCodecs, quality?: number): Promise<EncodedImage> {
  checkImage(image);
  checkFormat(format);
  checkQuality(quality);
  let buffer: ArrayBuffer;
  if (format === 'png') buffer = await codecs.png(codecImage(image));
  else if (format === 'jpeg') buffer = await codecs.jpeg(codecImage(flattenOntoWhite(image)), { quality: quality ?? DEFAULT_QUALITY.jpeg });
  else buffer = await codecs.webp(codecImage(image), { quality: quality ?? DEFAULT_QUALITY.webp });
  return { bytes: new Uint8Array(buffer), ...FORMAT_INFO[format] };
}
