import { createHash } from 'node:crypto';
import { crc32, inflateSync } from 'node:zlib';
import { decodeImage, headerSize, parseImageDataUrl, type ImageType } from '../../../src/core/image/decode.ts';
import { RequestValidationError } from '../../../src/core/request.ts';

/** A reference image checked by its content. */
export interface VerifiedImage {
  type: ImageType;
  /** Pixels. */
  width: number;
  height: number;
  /** The file itself and its size in bytes. */
  file: Uint8Array;
  bytes: number;
  /** SHA-256 of the file, lowercase hex: the image's address. */
  sha256: string;
}

const bad = (message: string) => new RequestValidationError([{ field: 'image', message }]);

/** Samples per pixel of each PNG colour type (PNG spec, 11.2.2 IHDR). */
const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Adam7 passes: [x start, y start, x step, y step] (PNG spec, 8.2). */
const ADAM7 = [[0, 0, 8, 8], [4, 0, 8, 8], [0, 4, 4, 8], [2, 0, 4, 4], [0, 2, 2, 4], [1, 0, 2, 2], [0, 1, 1, 2]] as const;

/**
 * Bytes the zlib stream of a PNG inflates to: per scanline one filter byte and the packed samples, per Adam7
 * pass when interlaced (PNG spec, 7.2 and 8.2).
 */
export function pngInflatedBytes(width: number, height: number, bitDepth: number, colorType: number, interlaced: boolean): number {
  const bitsPerPixel = (PNG_CHANNELS[colorType] ?? 0) * bitDepth;
  const image = (w: number, h: number) => (w === 0 || h === 0 ? 0 : h * (1 + Math.ceil((w * bitsPerPixel) / 8)));
  if (!interlaced) return image(width, height);
  return ADAM7.reduce((n, [x0, y0, dx, dy]) => n + image(Math.ceil(Math.max(0, width - x0) / dx), Math.ceil(Math.max(0, height - y0) / dy)), 0);
}

/**
 * Walks a PNG's chunks: every CRC checked, IHDR first, IDAT present and IEND last; then inflates the image
 * data with an output cap of exactly what the header implies, so a decompression bomb stops at that size.
 * @throws RequestValidationError naming `image`.
 */
function verifyPng(file: Uint8Array): void {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  let pos = 8;
  let header: { width: number; height: number; bitDepth: number; colorType: number; interlaced: boolean } | undefined;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (!ended) {
    if (pos + 12 > file.length) throw bad(`is a truncated PNG file (it ends inside a chunk at byte ${pos} of ${file.length})`);
    const length = view.getUint32(pos);
    if (pos + 12 + length > file.length) throw bad(`is a truncated PNG file (a chunk of ${length} bytes at byte ${pos} runs past the end)`);
    const typeAndData = file.subarray(pos + 4, pos + 8 + length);
    const type = String.fromCharCode(...typeAndData.subarray(0, 4));
    if (crc32(typeAndData) !== view.getUint32(pos + 8 + length)) throw bad(`is a damaged PNG file (the ${type} chunk at byte ${pos} fails its CRC)`);
    const data = typeAndData.subarray(4);
    if (!header && type !== 'IHDR') throw bad('is not a valid PNG file (IHDR is not the first chunk)');
    if (type === 'IHDR') {
      const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
      if (length !== 13) throw bad('is not a valid PNG file (IHDR is not 13 bytes)');
      header = { width: d.getUint32(0), height: d.getUint32(4), bitDepth: data[8]!, colorType: data[9]!, interlaced: data[12] === 1 };
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    }
    pos += 12 + length;
  }
  if (!header || !idat.length) throw bad('is not a valid PNG file (no image data)');
  const expected = pngInflatedBytes(header.width, header.height, header.bitDepth, header.colorType, header.interlaced);
  if (expected === 0) throw bad(`is not a valid PNG file (colour type ${header.colorType}, bit depth ${header.bitDepth})`);
  let inflated: Buffer;
  try {
    inflated = inflateSync(Buffer.concat(idat), { maxOutputLength: expected });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw bad(`decompresses to more than the ${expected} bytes its ${header.width}x${header.height} header implies`);
    throw bad(`is a damaged PNG file (its image data does not inflate: ${code ?? 'zlib error'})`);
  }
  if (inflated.length !== expected) throw bad(`is a truncated PNG file (its image data inflates to ${inflated.length} of the ${expected} bytes its header implies)`);
}

/**
 * Checks a request's reference image by its content before the job is queued: a PNG or JPEG data URL within
 * `IMAGE_LIMITS` (bytes, sides, pixels), a PNG's chunk CRCs and complete data with its decompressed size capped
 * at what the header implies, then the whole image decoded as the pipeline will decode it.
 * @returns the type, size in pixels, the file and its SHA-256.
 * @throws RequestValidationError naming `image`, with the limit that was exceeded.
 */
export function verifyReferenceImage(dataUrl: string): VerifiedImage {
  const { type, bytes: file } = parseImageDataUrl(dataUrl);
  headerSize(file, type);
  if (type === 'image/png') verifyPng(file);
  // the full decode (pixel limits inside): the pipeline's own decoder, so what passes here decodes there
  const { width, height } = decodeImage(file);
  return { type, width, height, file, bytes: file.length, sha256: createHash('sha256').update(file).digest('hex') };
}
