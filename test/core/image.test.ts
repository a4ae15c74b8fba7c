import { createHash } from 'node:crypto';
import { encode as encodePngFile } from 'fast-png';
import { encode as encodeJpeg } from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage, IMAGE_LIMITS, parseImageDataUrl, type RgbImage } from '../../src/core/image/decode.ts';
import { applyOrientation, jpegOrientation } from '../../src/core/image/exif.ts';
import { resizeAndCrop, resizeLanczos, rgbToModelInput } from '../../src/core/image/resize.ts';
import { RequestValidationError } from '../../src/core/request.ts';
import pil from '../fixtures/pil-resize.json';

/** The synthetic image of scripts/reference/pil_resize.py. */
function synthetic(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (x * 7 + y * 13 + c * 50 + ((x * y) % 31)) % 256;
  return { width, height, data };
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;

function issue(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestValidationError);
    const [first] = (error as RequestValidationError).issues;
    expect(first?.field).toBe('image');
    return first!.message;
  }
  throw new Error('expected a RequestValidationError');
}

// test/fixtures/pil-resize.json: Pillow 9.4 (Debian python3-pil), written by scripts/reference/pil_resize.py
describe('Lanczos resize and centre crop, bit for bit against Pillow', () => {
  for (const c of pil.cases) {
    it(`${c.mode} ${c.source.join('x')} -> ${c.target.join('x')}`, () => {
      const [w, h] = c.source as [number, number];
      const [tw, th] = c.target as [number, number];
      const out = c.mode === 'resize' ? resizeLanczos(synthetic(w, h), tw, th) : resizeAndCrop(synthetic(w, h), tw, th);
      expect(Array.from(out.data.subarray(0, 6))).toEqual(c.first);
      expect(sha256(out.data)).toBe(c.sha256);
    });
  }
});

describe('reference image decoding', () => {
  it('decodes PNG (RGBA drops alpha, 16-bit keeps the high byte) and JPEG', () => {
    const rgba = new Uint8Array([10, 20, 30, 0, 200, 100, 50, 255]);
    expect(Array.from(decodeImage(encodePngFile({ width: 2, height: 1, data: rgba, channels: 4 })).data)).toEqual([10, 20, 30, 200, 100, 50]);
    const deep = new Uint16Array([0x1234, 0xff00, 0x00ff]);
    expect(Array.from(decodeImage(encodePngFile({ width: 1, height: 1, data: deep, channels: 3, depth: 16 })).data)).toEqual([0x12, 0xff, 0x00]);
    const jpeg = encodeJpeg({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(128) }, 95).data;
    const decoded = decodeImage(new Uint8Array(jpeg));
    expect([decoded.width, decoded.height]).toEqual([8, 8]);
    expect(Math.abs(decoded.data[0]! - 128)).toBeLessThanOrEqual(2);
  });

  it('turns a JPEG upright by its EXIF orientation', () => {
    // a 2x1 image rotated 90 degrees clockwise (orientation 6) becomes 1x2
    const image = { width: 2, height: 1, data: new Uint8Array([1, 1, 1, 2, 2, 2]) };
    const upright = applyOrientation(image, 6);
    expect([upright.width, upright.height]).toEqual([1, 2]);
    expect(Array.from(upright.data)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(Array.from(applyOrientation(image, 2).data)).toEqual([2, 2, 2, 1, 1, 1]);
    // APP1 Exif segment, big-endian TIFF, IFD0 with Orientation = 6
    const exif = [0xff, 0xd8, 0xff, 0xe1, 0x00, 0x22, 0x45, 0x78, 0x69, 0x66, 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0xff, 0xda];
    expect(jpegOrientation(Uint8Array.from(exif))).toBe(6);
  });

  it('rejects what is not a PNG or JPEG data URL, naming image and the limit', () => {
    const png = encodePngFile({ width: 1, height: 1, data: new Uint8Array(3), channels: 3 });
    expect(parseImageDataUrl(dataUrl('image/png', png)).type).toBe('image/png');
    expect(issue(() => parseImageDataUrl('https://example.com/shop.jpg'))).toMatch(/must be a data URL/);
    expect(issue(() => parseImageDataUrl(dataUrl('image/webp', png)))).toBe('type image/webp is not supported (use image/png or image/jpeg)');
    expect(issue(() => parseImageDataUrl(dataUrl('image/jpeg', png)))).toBe('declared image/jpeg but the data is image/png');
    expect(issue(() => parseImageDataUrl(dataUrl('image/png', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))))).toMatch(/not a PNG or JPEG file/);
    expect(issue(() => parseImageDataUrl(`data:image/png;base64,${'A'.repeat(Math.ceil((IMAGE_LIMITS.maxBytes * 4) / 3) + 400)}`))).toMatch(/the limit is 10 MiB/);
    const huge = encodePngFile({ width: 9000, height: 1, data: new Uint8Array(9000 * 3), channels: 3 });
    expect(issue(() => decodeImage(huge))).toBe('is 9000x1 pixels; each side must be at most 8192');
  });

  it('normalises pixels to [-1, 1] NCHW as diffusers VaeImageProcessor.preprocess', () => {
    const t = rgbToModelInput({ width: 2, height: 1, data: new Uint8Array([0, 255, 128, 255, 0, 64]) });
    expect(t.dims).toEqual([1, 3, 1, 2]);
    expect(Array.from(t.data)).toEqual([-1, 1, 1, -1, Math.fround(2 * Math.fround(128 / 255)) - 1, Math.fround(2 * Math.fround(64 / 255)) - 1].map(Math.fround));
  });
});
