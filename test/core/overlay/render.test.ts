/**
 * Rendering: resvg-js (server) and resvg-wasm (browser, run here in Node) give the same bytes; the text stays
 * in the safe area; the lines satori draws are the lines the layout decided; contrast over hard pictures;
 * render time per image.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  layoutAdCopy,
  overlaySvg,
  renderAdCopyLayers,
  renderOverlay,
  type AdCopy,
  type OverlayFonts,
  type Rasterise,
} from '../../../src/core/overlay/index.ts';
import { ENGLISH, KOREAN, SIZES, gradient, inkBox, loadOverlayFonts, noise, rasteriseWithResvgJs, solid, wasmRasteriser } from './helpers.ts';

let fonts: OverlayFonts;
let wasm: Rasterise;
beforeAll(async () => {
  fonts = await loadOverlayFonts();
  wasm = await wasmRasteriser();
});

describe('one renderer, byte-identical in Node and the browser', () => {
  it('resvg gives premultiplied RGBA (both builds)', async () => {
    const svg = '<svg width="2" height="1" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="1" height="1" fill="rgba(255,0,0,0.5)"/></svg>';
    for (const rasterise of [rasteriseWithResvgJs, wasm]) {
      const { rgba } = await rasterise(svg);
      expect([...rgba]).toEqual([127, 0, 0, 127, 0, 0, 0, 0]);
    }
  });

  it('resvg-js and resvg-wasm rasterise every aspect ratio, Korean and English, to the same bytes', async () => {
    const copies: AdCopy[] = [KOREAN, { ...ENGLISH, template: 'top' }, { headline: '50% 할인\n오늘 단 하루', badge: '4,500원', template: 'center' }];
    let compared = 0;
    for (const [, width, height] of SIZES) {
      const image = gradient(width, height);
      for (const copy of copies) {
        const native = (await renderAdCopyLayers(copy, image, { fonts, rasterise: rasteriseWithResvgJs }))!;
        const browser = (await renderAdCopyLayers(copy, image, { fonts, rasterise: wasm }))!;
        expect(Buffer.from(browser.overlay.data).equals(Buffer.from(native.overlay.data))).toBe(true);
        expect(Buffer.from(browser.image.data).equals(Buffer.from(native.image.data))).toBe(true);
        expect(inkBox(native.overlay)).not.toBeNull(); // something was drawn
        compared++;
      }
    }
    expect(compared).toBe(15);
  });

  it('is deterministic: the same copy gives the same SVG twice', async () => {
    const layout = layoutAdCopy(KOREAN, gradient(512, 512), fonts);
    expect(await overlaySvg(layout, fonts)).toBe(await overlaySvg(layoutAdCopy(KOREAN, gradient(512, 512), fonts), fonts));
  });
});

describe('safe margins', () => {
  it('keeps every drawn pixel inside the safe area, for every ratio and template', async () => {
    const long: AdCopy = {
      shop_name: '성수동 수제 베이커리 & 브런치 카페 본점',
      headline: '주말 한정 딸기 생크림 케이크 예약 주문 받습니다 매장 픽업 시 아메리카노 무료',
      subline: 'Same-day delivery across Seongsu, 오전 7시부터 오후 10시까지 매일 영업합니다',
      badge: '최대 50% 할인',
      watermark: 'Ad Studio',
    };
    for (const [ratio, width, height] of SIZES) {
      for (const template of ['bottom', 'top', 'center'] as const) {
        const layout = layoutAdCopy({ ...long, template }, solid(width, height, 128), fonts);
        const overlay = await renderOverlay(layout, { fonts, rasterise: rasteriseWithResvgJs });
        const ink = inkBox(overlay)!;
        const safe = layout.safeArea;
        expect(ink.x, `${ratio} ${template} left`).toBeGreaterThanOrEqual(Math.floor(safe.x));
        expect(ink.y, `${ratio} ${template} top`).toBeGreaterThanOrEqual(Math.floor(safe.y));
        expect(ink.x + ink.width, `${ratio} ${template} right`).toBeLessThanOrEqual(Math.ceil(safe.x + safe.width));
        expect(ink.y + ink.height, `${ratio} ${template} bottom`).toBeLessThanOrEqual(Math.ceil(safe.y + safe.height));
        expect(safe.x).toBeGreaterThanOrEqual(0.05 * Math.min(width, height));
        if (ratio === '9:16') {
          expect(ink.y).toBeGreaterThanOrEqual(Math.floor(0.14 * height)); // Instagram's top bar (the pixel row it starts in)
          expect(ink.y + ink.height).toBeLessThanOrEqual(Math.ceil(0.8 * height)); // the reply box
        }
      }
    }
  });
});

describe('what satori draws is what the layout decided', () => {
  it('draws each line inside its own line box: no word was broken or moved to another line', async () => {
    const copy: AdCopy = { headline: '갓 구운 크루아상과 50% 할인 아메리카노 4,500원', subline: 'fresh croissants 4,500원 and bouquets 50% off', template: 'center' };
    for (const [width, height] of [[1024, 1024], [768, 1344], [1344, 768]] as const) {
      const layout = layoutAdCopy(copy, solid(width, height, 0), fonts);
      const overlay = await renderOverlay(layout, { fonts, rasterise: rasteriseWithResvgJs });
      const all = inkBox(overlay)!;
      let inLines = 0;
      for (const block of layout.blocks) {
        block.lineRects.forEach((line, i) => {
          const words = block.lines[i]!;
          for (const token of ['50%', '4,500원', '크루아상과']) if (words.join(' ').includes(token)) expect(words).toContain(token);
          const ink = inkBox(overlay, line)!;
          // the ink of this line spans its measured width (within kerning and side bearings)
          expect(ink.x).toBeLessThan(line.x + 0.12 * block.fontSize);
          expect(ink.x + ink.width).toBeGreaterThan(line.x + line.width - 0.2 * block.fontSize);
          expect(ink.x + ink.width).toBeLessThanOrEqual(Math.ceil(line.x + line.width) + 1);
          inLines++;
        });
      }
      // and nothing outside the line boxes (rows between blocks are empty)
      const boxes = layout.blocks.flatMap((b) => b.lineRects);
      const top = Math.min(...boxes.map((b) => b.y));
      const bottom = Math.max(...boxes.map((b) => b.y + b.height));
      expect(all.y).toBeGreaterThanOrEqual(Math.floor(top));
      expect(all.y + all.height).toBeLessThanOrEqual(Math.ceil(bottom));
      expect(inLines).toBeGreaterThanOrEqual(3); // the headline broke into lines at every size
    }
  });
});

describe('timing', () => {
  it('renders 1024x1024 and 1080x1920 (layout, satori, resvg, compositing)', async () => {
    const figures: Record<string, number> = {};
    for (const [width, height] of [[1024, 1024], [1080, 1920]] as const) {
      const image = noise(width, height);
      for (const [name, rasterise] of [['resvg_js', rasteriseWithResvgJs], ['resvg_wasm', wasm]] as const) {
        await renderAdCopyLayers(KOREAN, image, { fonts, rasterise }); // warm
        const runs = 3;
        const start = performance.now();
        for (let i = 0; i < runs; i++) await renderAdCopyLayers(KOREAN, image, { fonts, rasterise });
        figures[`${name}_${width}x${height}_ms`] = Math.round((performance.now() - start) / runs);
      }
    }
    console.log(JSON.stringify({ overlay_render_ms: figures }));
    expect(Object.keys(figures)).toHaveLength(4);
  });
});
