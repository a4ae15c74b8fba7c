import { beforeAll, describe, expect, it } from 'vitest';
import { nodeExportCodecs, nodeExportResizer } from '../../../server/src/export/codecs.ts';
import { EngineError } from '../../../src/core/errors.ts';
import { checkExportOptions, encodeImage, resizeForExport, type ExportCodecs, type ExportFormat, type RgbaImage } from '../../../src/core/export/index.ts';
import { firstDifference, nodeDecoders, photoImage, positionImage, psnr, readRgbaPng } from './helpers.ts';

let codecs: ExportCodecs;
let decoders: Awaited<ReturnType<typeof nodeDecoders>>;
/** A 1080x1350 photo-like export (a 1024x1024 generated image cropped to Instagram portrait). */
let photo: RgbaImage;
beforeAll(async () => {
  [codecs, decoders] = await Promise.all([nodeExportCodecs(), nodeDecoders()]);
  photo = await resizeForExport(photoImage(1024, 1024), '1080x1350', 'crop', await nodeExportResizer());
});

/** Thresholds at the default quality 90 on the photo-like image (measured: JPEG 40.3 dB, WebP 38.6 dB). */
const MIN_PSNR = { jpeg: 38, webp: 36 } as const;

async function invalid(fn: () => Promise<unknown>): Promise<EngineError> {
  const error = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EngineError);
  expect((error as EngineError).code).toBe('invalid_request');
  return error as EngineError;
}

/** An image with every alpha value and colours that vary with position. */
function translucent(width: number, height: number): RgbaImage {
  const image = positionImage(width, height);
  for (let p = 0; p < width * height; p++) image.data[p * 4 + 3] = (p * 7) % 256;
  return image;
}

describe('encodeImage', () => {
  it('PNG is lossless, alpha included (decoded by zlib and by jSquash)', async () => {
    const image = translucent(301, 157);
    const png = await encodeImage(image, 'png', codecs);
    expect([png.mime, png.extension]).toEqual(['image/png', 'png']);
    const viaZlib = readRgbaPng(png.bytes);
    expect([viaZlib.width, viaZlib.height]).toEqual([301, 157]);
    expect(firstDifference(viaZlib.data, image.data)).toBe(-1);
    const viaJsquash = await decoders.png(png.bytes);
    expect(firstDifference(viaJsquash.data, image.data)).toBe(-1);
  });

  it('PNG of a 1080x1350 photo round-trips exactly', async () => {
    const png = await encodeImage(photo, 'png', codecs);
    expect(firstDifference((await decoders.png(png.bytes)).data, photo.data)).toBe(-1);
    expect(firstDifference(readRgbaPng(png.bytes).data, photo.data)).toBe(-1);
  });

  it('encodes pixels that are a view into a larger buffer (jSquash reads data.buffer whole)', async () => {
    const image = translucent(40, 30);
    const big = new Uint8Array(image.data.length + 1000);
    big.set(image.data, 500);
    const view = { width: 40, height: 30, data: big.subarray(500, 500 + image.data.length) };
    for (const format of ['png', 'webp', 'jpeg'] as const) {
      const a = await encodeImage(view, format, codecs);
      const b = await encodeImage(image, format, codecs);
      expect(firstDifference(a.bytes, b.bytes), format).toBe(-1);
    }
  });

  for (const format of ['jpeg', 'webp'] as const) {
    it(`${format} at quality 90 decodes to 1080x1350 above ${MIN_PSNR[format]} dB and is smaller than PNG`, async () => {
      const file = await encodeImage(photo, format, codecs);
      expect(file.mime).toBe(`image/${format}`);
      expect(file.extension).toBe(format === 'jpeg' ? 'jpg' : 'webp');
      const decoded = await decoders[format](file.bytes);
      expect([decoded.width, decoded.height]).toEqual([1080, 1350]);
      const db = psnr(decoded.data, photo.data);
      const png = await encodeImage(photo, 'png', codecs);
      console.log(`${format} q90: ${file.bytes.length} bytes (PNG ${png.bytes.length}), ${db.toFixed(2)} dB`);
      expect(db).toBeGreaterThan(MIN_PSNR[format]);
      expect(file.bytes.length).toBeLessThan(png.bytes.length / 4);
      // lower quality, fewer bytes
      expect((await encodeImage(photo, format, codecs, 50)).bytes.length).toBeLessThan(file.bytes.length);
    });
  }

  it('JPEG flattens transparency onto white', async () => {
    const image = positionImage(64, 64);
    for (let p = 0; p < 64 * 64; p++) image.data[p * 4 + 3] = p < 32 * 64 ? 0 : 255; // top half transparent
    const decoded = await decoders.jpeg((await encodeImage(image, 'jpeg', codecs)).bytes);
    const at = (x: number, y: number) => Array.from(decoded.data.subarray((y * 64 + x) * 4, (y * 64 + x) * 4 + 4));
    for (const value of at(32, 8)) expect(value).toBeGreaterThanOrEqual(250);
    const [r, g, b, a] = at(40, 56);
    expect(a).toBe(255);
    expect(Math.abs(r! - image.data[(56 * 64 + 40) * 4]!)).toBeLessThan(8);
    expect(Math.abs(g! - image.data[(56 * 64 + 40) * 4 + 1]!)).toBeLessThan(8);
    expect(Math.abs(b! - 128)).toBeLessThan(8);
  });

  it('WebP keeps alpha', async () => {
    const image = translucent(64, 48);
    const decoded = await decoders.webp((await encodeImage(image, 'webp', codecs)).bytes);
    let worst = 0;
    for (let p = 0; p < 64 * 48; p++) worst = Math.max(worst, Math.abs(decoded.data[p * 4 + 3]! - image.data[p * 4 + 3]!));
    expect(worst).toBeLessThanOrEqual(2); // alpha_quality 100: lossless alpha plane, up to the filter's rounding
  });

  it('gives the same bytes for the same pixels', async () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const a = await encodeImage(photo, format, codecs);
      const b = await encodeImage(photo, format, codecs);
      expect(firstDifference(a.bytes, b.bytes), format).toBe(-1);
    }
  });

  it('names a bad format, quality or image with its limit', async () => {
    const image = positionImage(4, 4);
    let e = await invalid(() => encodeImage(image, 'gif' as ExportFormat, codecs));
    expect(e.issues).toEqual([{ field: 'format', message: 'must be one of png, jpeg, webp (got "gif")' }]);
    for (const quality of [0, 101, 90.5, Number.NaN, '90' as unknown as number]) {
      e = await invalid(() => encodeImage(image, 'jpeg', codecs, quality));
      expect(e.issues?.[0]?.field).toBe('quality');
      expect(e.message).toMatch(/^quality: must be an integer from 1 to 100 \(got /);
    }
    e = await invalid(() => encodeImage(image, 'png', codecs, 0)); // checked for PNG too
    expect(e.issues?.[0]?.field).toBe('quality');
    e = await invalid(() => encodeImage({ width: 4, height: 0, data: new Uint8Array(0) }, 'png', codecs));
    expect(e.issues?.[0]?.field).toBe('image');
  });
});

describe('checkExportOptions', () => {
  it('passes good options through', () => {
    expect(checkExportOptions({ size: '1080x1350', fit: 'crop', format: 'jpeg', quality: 85 })).toEqual({ size: '1080x1350', fit: 'crop', format: 'jpeg', quality: 85 });
    expect(checkExportOptions({ size: 'original', fit: 'fit', format: 'png' })).toEqual({ size: 'original', fit: 'fit', format: 'png' });
  });

  it('names every bad field at once', () => {
    let error: unknown;
    try {
      checkExportOptions({ size: '1080x1081', fit: 'cover', format: 'gif', quality: 120 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect((error as EngineError).code).toBe('invalid_request');
    expect((error as EngineError).issues?.map((i) => i.field)).toEqual(['size', 'fit', 'format', 'quality']);
    expect((error as EngineError).message).toContain('quality: must be an integer from 1 to 100 (got 120)');
  });
});
