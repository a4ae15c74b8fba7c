/** Layout without rendering: line breaks by words, shrinking, proportional scaling, bad input. */
import { beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/core/errors.ts';
import {
  COPY_LIMITS,
  fitText,
  fontMetrics,
  frameFor,
  layoutAdCopy,
  measureText,
  renderAdCopy,
  splitWords,
  validateAdCopy,
  type AdCopy,
  type OverlayFonts,
} from '../../../src/core/overlay/index.ts';
import { ENGLISH, KOREAN, gradient, loadOverlayFonts, rasteriseWithResvgJs, solid } from './helpers.ts';

let fonts: OverlayFonts;
beforeAll(async () => {
  fonts = await loadOverlayFonts();
});

const WHOLE = ['50%', '4,500원', '크루아상과', '아메리카노', 'bouquets'];

describe('Korean line breaking by words', () => {
  it('breaks only between words at every column width, and never splits 50%, 4,500원 or 크루아상과', () => {
    const metrics = fontMetrics(fonts.bold);
    const text = '갓 구운 크루아상과 바게트 50% 할인, 아메리카노 4,500원 fresh bouquets';
    const words = splitWords(text).flat();
    let shapes = 0;
    for (let width = 120; width <= 1000; width += 7) {
      const broken = fitText(text, metrics, 80, width, 3);
      expect(broken.lines.flat()).toEqual(words); // every word whole and in order
      expect(broken.lines.length).toBeLessThanOrEqual(3);
      for (const token of WHOLE) expect(broken.lines.some((line) => line.includes(token))).toBe(true);
      broken.lineWidths.forEach((w) => expect(w).toBeLessThanOrEqual(width + 1e-9));
      shapes += broken.lines.length;
    }
    expect(shapes).toBeGreaterThan(127); // many widths really broke lines
  });

  it('shrinks a word too long for the line instead of breaking it', () => {
    const metrics = fontMetrics(fonts.bold);
    const word = '크루아상크루아상크루아상크루아상';
    const broken = fitText(word, metrics, 90, 500, 3);
    expect(broken.lines).toEqual([[word]]);
    expect(broken.fontSize).toBeLessThan(90);
    expect(measureText(metrics, word, broken.fontSize)).toBeLessThanOrEqual(500);
    expect(measureText(metrics, word, broken.fontSize * 1.01)).toBeGreaterThan(500); // as large as fits
  });

  it('keeps the headline within its line limit by shrinking, and balances the lines', () => {
    const metrics = fontMetrics(fonts.bold);
    const text = '주말 한정 딸기 생크림 케이크 예약 주문 받습니다 매장 픽업 시 아메리카노 한 잔 무료 증정';
    const broken = fitText(text, metrics, 90, 900, 3);
    expect(broken.lines.length).toBe(3);
    expect(broken.fontSize).toBeLessThan(90);
    const widths = broken.lineWidths;
    expect(Math.min(...widths) / Math.max(...widths)).toBeGreaterThan(0.6);
  });

  it('honours a typed line break', () => {
    const metrics = fontMetrics(fonts.bold);
    expect(fitText('오늘의 빵\n50% 할인', metrics, 80, 2000, 3).lines).toEqual([['오늘의', '빵'], ['50%', '할인']]);
  });

  it('layoutAdCopy keeps every word whole on every aspect ratio and template', () => {
    for (const [width, height] of [[1024, 1024], [896, 1152], [1152, 896], [1344, 768], [768, 1344], [640, 1600]] as const) {
      for (const template of ['bottom', 'top', 'center'] as const) {
        for (const copy of [KOREAN, ENGLISH]) {
          const layout = layoutAdCopy({ ...copy, template }, gradient(width, height), fonts);
          for (const block of layout.blocks) {
            expect(block.lines.flat().join(' ')).toBe(validateAdCopy(copy)[block.field]!.replace(/\n/g, ' '));
            expect(block.lines.length).toBeLessThanOrEqual(frameFor(width, height)[block.field].maxLines);
          }
        }
      }
    }
  });
});

describe('templates and proportions', () => {
  it('lays out 1024x1024 and 1080x1080 (and 768x1344 and 1080x1890) proportionally', () => {
    for (const [[w1, h1], [w2, h2]] of [[[1024, 1024], [1080, 1080]], [[768, 1344], [1080, 1890]]] as const) {
      for (const copy of [KOREAN, ENGLISH, { ...KOREAN, template: 'top' as const }]) {
        const a = layoutAdCopy(copy, solid(w1, h1, 40), fonts);
        const b = layoutAdCopy(copy, solid(w2, h2, 40), fonts);
        const k = w2 / w1;
        expect(b.blocks.map((x) => x.lines)).toEqual(a.blocks.map((x) => x.lines));
        a.blocks.forEach((block, i) => {
          const other = b.blocks[i]!;
          expect(Math.abs(other.fontSize / block.fontSize - k)).toBeLessThan(0.005 * k);
          // within a pixel: word widths are whole pixels, as satori lays them out
          for (const key of ['x', 'y', 'width', 'height'] as const) expect(Math.abs(other.rect[key] - block.rect[key] * k)).toBeLessThanOrEqual(1);
        });
        expect(b.safeArea.x).toBeCloseTo(a.safeArea.x * k, 6);
      }
    }
  });

  it('picks the nearest aspect ratio for other sizes, and its default template', () => {
    expect(frameFor(1080, 1080).ratio).toBe('1:1');
    expect(frameFor(1080, 1350).ratio).toBe('3:4'); // Instagram portrait 4:5
    expect(frameFor(1920, 1080).ratio).toBe('16:9');
    expect(frameFor(1080, 1920).ratio).toBe('9:16');
    expect(frameFor(1200, 900).ratio).toBe('4:3');
    expect(layoutAdCopy({ headline: '안녕하세요' }, solid(1344, 768, 0), fonts).template).toBe('bottom');
    expect(layoutAdCopy({ headline: '안녕하세요' }, solid(1344, 768, 0), fonts).align).toBe('left');
    expect(layoutAdCopy({ headline: '안녕하세요', template: 'center' }, solid(1344, 768, 0), fonts).align).toBe('center');
  });

  it('places the stack by template: top near the top, bottom near the bottom, center around the middle', () => {
    const image = solid(1024, 1024, 90);
    const headline = (template: 'top' | 'bottom' | 'center') => layoutAdCopy({ headline: '오늘의 빵', template }, image, fonts).blocks[0]!.rect;
    const top = headline('top');
    const bottom = headline('bottom');
    const center = headline('center');
    expect(top.y).toBeCloseTo(0.06 * 1024, 6);
    expect(bottom.y + bottom.height).toBeCloseTo(1024 - 0.06 * 1024, 6);
    expect(center.y + center.height / 2).toBeCloseTo(512, 6);
  });
});

describe('bad input', () => {
  const invalid = (copy: unknown): EngineError => {
    try {
      validateAdCopy(copy as AdCopy);
    } catch (error) {
      return error as EngineError;
    }
    throw new Error('no error');
  };

  it('names each field over its limit, with the limit', () => {
    const error = invalid({ shop_name: 'a'.repeat(41), headline: '가'.repeat(61), subline: '나'.repeat(81), badge: '50% 할인 50% 할인 50%', watermark: 'w'.repeat(25) });
    expect(error).toBeInstanceOf(EngineError);
    expect(error.code).toBe('invalid_request');
    expect(error.issues).toEqual([
      { field: 'shop_name', message: 'at most 40 characters (got 41)' },
      { field: 'headline', message: 'at most 60 characters (got 61)' },
      { field: 'subline', message: 'at most 80 characters (got 81)' },
      { field: 'badge', message: 'at most 16 characters (got 17)' },
      { field: 'watermark', message: 'at most 24 characters (got 25)' },
    ]);
    expect(error.message).toContain('headline: at most 60 characters');
    expect(COPY_LIMITS.headline).toBe(60);
  });

  it('counts characters, not UTF-16 units, and accepts text at the limit', () => {
    expect(validateAdCopy({ headline: '가'.repeat(60), badge: '𝟓𝟎% 할인' }).headline).toHaveLength(60);
  });

  it('names wrong types, control characters, too many line breaks and unknown templates', () => {
    expect(invalid({ headline: 42 }).issues).toEqual([{ field: 'headline', message: 'must be a string (got number)' }]);
    expect(invalid({ subline: 'a\u0007b' }).issues?.[0]?.field).toBe('subline');
    expect(invalid({ shop_name: '성수\n베이커리' }).issues).toEqual([{ field: 'shop_name', message: 'must be one line (no line breaks)' }]);
    expect(invalid({ headline: 'a\nb\nc\nd' }).issues).toEqual([{ field: 'headline', message: 'at most 2 line breaks (got 3)' }]);
    expect(invalid({ template: 'left' }).issues).toEqual([{ field: 'template', message: 'must be one of bottom, top, center (got "left")' }]);
    expect(invalid(null).code).toBe('invalid_request');
  });

  it('names a field with characters Pretendard cannot draw', () => {
    let error: EngineError | undefined;
    try {
      layoutAdCopy({ headline: '빵 🍞 나왔어요' }, solid(64, 64, 0), fonts);
    } catch (e) {
      error = e as EngineError;
    }
    expect(error?.code).toBe('invalid_request');
    expect(error?.issues).toEqual([{ field: 'headline', message: 'Pretendard has no glyph for "🍞"' }]);
  });

  it('returns the image itself for empty copy (blank fields count as empty)', async () => {
    const image = solid(32, 32, 7);
    expect(await renderAdCopy({}, image, { fonts, rasterise: rasteriseWithResvgJs })).toBe(image);
    expect(await renderAdCopy({ headline: '  ', badge: '' }, image, { fonts, rasterise: rasteriseWithResvgJs })).toBe(image);
  });
});
