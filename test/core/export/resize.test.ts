import { beforeAll, describe, expect, it } from 'vitest';
import { nodeExportResizer } from '../../../server/src/export/codecs.ts';
import { EngineError } from '../../../src/core/errors.ts';
import { EXPORT_SIZES, FIT_BACKGROUND_DARKEN, resizeForExport, type ExportSizeId, type Resizer, type RgbaImage } from '../../../src/core/export/index.ts';
import { resizeLanczos } from '../../../src/core/image/resize.ts';
import { firstDifference, photoImage, positionImage, psnr, region } from './helpers.ts';

let resize: Resizer;
beforeAll(async () => {
  resize = await nodeExportResizer();
});

const pixel = (image: RgbaImage, x: number, y: number) => Array.from(image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 4));

function engineError(fn: () => unknown): Promise<EngineError> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => {
        throw new Error('did not throw');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(EngineError);
        return error as EngineError;
      },
    );
}

describe('EXPORT_SIZES', () => {
  it('lists the social sizes with UI label keys, and original', () => {
    expect(EXPORT_SIZES.map((s) => [s.id, s.width, s.height, s.label])).toEqual([
      ['1080x1080', 1080, 1080, 'instagram_square'],
      ['1080x1350', 1080, 1350, 'instagram_portrait'],
      ['1080x1920', 1080, 1920, 'story_reels'],
      ['1200x628', 1200, 628, 'facebook_link'],
      ['original', undefined, undefined, 'original'],
    ]);
  });
});

describe('resizeForExport', () => {
  // a 256-pixel position image: one level of R (G) per source column (row), so geometry shows to about a pixel
  const source = positionImage(256, 256);
  const sized = EXPORT_SIZES.filter((s) => s.width !== undefined);

  for (const size of sized) {
    for (const fit of ['fit', 'crop'] as const) {
      it(`${size.id} ${fit} is exactly ${size.width}x${size.height} (square and landscape sources)`, async () => {
        for (const src of [source, positionImage(304, 208)]) {
          const out = await resizeForExport(src, size.id, fit, resize);
          expect([out.width, out.height]).toEqual([size.width, size.height]);
          expect(out.data.length).toBe(size.width! * size.height! * 4);
        }
      });
    }
  }

  it('original returns the image itself for either fit', async () => {
    const src = positionImage(40, 24);
    expect(await resizeForExport(src, 'original', 'fit', resize)).toBe(src);
    expect(await resizeForExport(src, 'original', 'crop', resize)).toBe(src);
  });

  it('crop scales to cover and cuts the overflow evenly: each pixel comes from the expected source position', async () => {
    for (const id of ['1200x628', '1080x1920', '1080x1350'] as ExportSizeId[]) {
      const out = await resizeForExport(source, id, 'crop', resize);
      const scale = Math.max(out.width / 256, out.height / 256);
      const left = (256 - out.width / scale) / 2;
      const top = (256 - out.height / scale) / 2;
      let worst = 0;
      for (let v = 8; v < out.height - 8; v += 7) {
        for (let u = 8; u < out.width - 8; u += 7) {
          const [r, g] = pixel(out, u, v);
          const x = left + (u + 0.5) / scale - 0.5;
          const y = top + (v + 0.5) / scale - 0.5;
          worst = Math.max(worst, Math.abs(r! - (255 * x) / 255), Math.abs(g! - (255 * y) / 255));
        }
      }
      expect(worst, id).toBeLessThan(1.6);
      // the centre of the export is the centre of the source
      const [r, g] = pixel(out, out.width / 2, out.height / 2);
      expect(Math.abs(r! - 127.5)).toBeLessThan(1.5);
      expect(Math.abs(g! - 127.5)).toBeLessThan(1.5);
    }
  });

  it('crop keeps the focus point as central as the image allows', async () => {
    const top = await resizeForExport(source, '1200x628', 'crop', resize, { focus: { x: 0.5, y: 0 } });
    expect(pixel(top, 600, 0)[1]).toBeLessThanOrEqual(1); // the first source row is kept
    const bottom = await resizeForExport(source, '1200x628', 'crop', resize, { focus: { x: 0.5, y: 1 } });
    expect(pixel(bottom, 600, 627)[1]).toBeGreaterThanOrEqual(254);
    const middle = await resizeForExport(source, '1200x628', 'crop', resize, { focus: { x: 0.5, y: 0.5 } });
    expect(firstDifference(middle.data, (await resizeForExport(source, '1200x628', 'crop', resize)).data)).toBe(-1);
  });

  for (const [id, box] of [
    ['1080x1350', { x: 0, y: 135, width: 1080, height: 1080 }],
    ['1080x1920', { x: 0, y: 420, width: 1080, height: 1080 }],
    ['1200x628', { x: 286, y: 0, width: 628, height: 628 }],
  ] as const) {
    it(`fit ${id} shows the whole image in its content box, padded with a blurred, darkened copy`, async () => {
      const out = await resizeForExport(source, id, 'fit', resize);
      // the content box is the whole image scaled, unchanged
      const whole = await resize(source, box.width, box.height);
      expect(firstDifference(region(out, box.x, box.y, box.width, box.height), whole.data)).toBe(-1);
      // all four corners of the source are visible
      expect(pixel(out, box.x, box.y).slice(0, 2)).toEqual([0, 0]);
      expect(pixel(out, box.x + box.width - 1, box.y + box.height - 1).slice(0, 2)).toEqual([255, 255]);
      // padding: neither flat nor black, darkened, smooth (blurred)
      const pads = box.x > 0 ? [region(out, 0, 0, box.x, out.height), region(out, box.x + box.width, 0, out.width - box.x - box.width, out.height)] : [region(out, 0, 0, out.width, box.y), region(out, 0, box.y + box.height, out.width, out.height - box.y - box.height)];
      for (const pad of pads) {
        const reds = pad.filter((_, i) => i % 4 === 0);
        const mean = reds.reduce((a, b) => a + b, 0) / reds.length;
        const sd = Math.sqrt(reds.reduce((a, b) => a + (b - mean) ** 2, 0) / reds.length);
        expect(sd).toBeGreaterThan(10);
        expect(reds.reduce((a, b) => Math.max(a, b), 0)).toBeLessThanOrEqual(Math.ceil(255 * FIT_BACKGROUND_DARKEN) + 2);
        expect(pad.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
      }
      const padWidth = box.x > 0 ? box.x : out.width;
      const padRow = region(out, 0, 0, padWidth, 1);
      for (let i = 4; i < padRow.length; i += 4) expect(Math.abs(padRow[i]! - padRow[i - 4]!)).toBeLessThanOrEqual(3);
    });
  }

  it('fit of a photo matches a Pillow-exact Lanczos resize of it (PSNR over 35 dB)', async () => {
    const photo = photoImage(512, 512);
    const out = await resizeForExport(photo, '1080x1350', 'fit', resize);
    const rgb = new Uint8Array(512 * 512 * 3);
    for (let p = 0; p < 512 * 512; p++) rgb.set(photo.data.subarray(p * 4, p * 4 + 3), p * 3);
    const pil = resizeLanczos({ width: 512, height: 512, data: rgb }, 1080, 1080);
    const pilRgba = new Uint8Array(1080 * 1080 * 4);
    for (let p = 0; p < 1080 * 1080; p++) pilRgba.set([...pil.data.subarray(p * 3, p * 3 + 3), 255], p * 4);
    const db = psnr(region(out, 0, 135, 1080, 1080), pilRgba);
    console.log(`fit content box vs Pillow Lanczos: ${db.toFixed(1)} dB`);
    expect(db).toBeGreaterThan(35);
  });

  it('keeps straight alpha: a half-transparent image keeps its colour and alpha', async () => {
    const src = positionImage(64, 64);
    for (let i = 3; i < src.data.length; i += 4) src.data[i] = 128;
    const out = await resizeForExport(src, '1080x1350', 'crop', resize);
    const [r, g, b, a] = pixel(out, 540, 675);
    expect(a).toBe(128);
    expect(Math.abs(b! - 128)).toBeLessThanOrEqual(1);
    expect(Math.abs(r! - 127.5)).toBeLessThan(3);
    expect(Math.abs(g! - 127.5)).toBeLessThan(3);
  });

  it('is deterministic and leaves its input alone', async () => {
    const photo = photoImage(200, 300);
    const copy = new Uint8Array(photo.data);
    const a = await resizeForExport(photo, '1200x628', 'fit', resize);
    const b = await resizeForExport(photo, '1200x628', 'fit', resize);
    expect(firstDifference(a.data, b.data)).toBe(-1);
    expect(firstDifference(photo.data, copy)).toBe(-1);
  });

  it('names the bad field and its limit', async () => {
    const src = positionImage(8, 8);
    let e = await engineError(() => resizeForExport(src, '1080x1081' as ExportSizeId, 'fit', resize));
    expect(e.code).toBe('invalid_request');
    expect(e.issues?.[0]?.field).toBe('size');
    expect(e.message).toMatch(/^size: must be one of 1080x1080, 1080x1350, 1080x1920, 1200x628, original \(got "1080x1081"\)/);
    e = await engineError(() => resizeForExport(src, '1080x1080', 'stretch' as 'fit', resize));
    expect(e.issues).toEqual([{ field: 'fit', message: 'must be one of fit, crop (got "stretch")' }]);
    e = await engineError(() => resizeForExport(src, '1080x1080', 'crop', resize, { focus: { x: 1.5, y: 0 } }));
    expect(e.issues?.[0]?.field).toBe('focus.x');
    expect(e.message).toContain('from 0 to 1');
    e = await engineError(() => resizeForExport({ width: 8, height: 8, data: new Uint8Array(10) }, '1080x1080', 'crop', resize));
    expect(e.issues?.[0]?.field).toBe('image');
    expect(e.message).toContain('256 bytes');
  });
});
