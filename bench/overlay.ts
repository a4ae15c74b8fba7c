/**
 * `npx tsx bench/overlay.ts`: time to put the ad copy over one picture, per stage (layout with the contrast
 * measurement, satori, resvg, scrim and compositing), at 1024x1024 and 1080x1920, with resvg-js (server) and
 * resvg-wasm run in Node (the browser's rasteriser). Median of 7 runs after one warm-up; the first run's
 * time (font parsing included) separately. The last line is one JSON object with every figure.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { initWasm } from '@resvg/resvg-wasm';
import { rasteriseWithResvgWasm } from '../src/engine/overlay/resvgWasm.ts';
import { applyScrim, composite, layoutAdCopy, overlaySvg, unpremultiply, type Rasterise } from '../src/core/overlay/index.ts';
import { loadOverlayFonts, rasteriseWithResvgJs } from '../server/src/overlay/index.ts';

const require = createRequire(import.meta.url);
await initWasm(readFileSync(require.resolve('@resvg/resvg-wasm/index_bg.wasm')));
const rasteriseWasm = rasteriseWithResvgWasm;

const copy = { shop_name: '성수 베이커리', headline: '갓 구운 크루아상과 바게트, 매일 아침 7시', subline: '오늘만 모든 빵 50% 할인 · 아메리카노 4,500원', badge: '50% 할인', watermark: 'Ad Studio' };
const fonts = await loadOverlayFonts();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const figures: Record<string, number> = {};

function picture(width: number, height: number) {
  // a busy picture (noise), so the contrast search and the scrim do their full work
  const data = new Uint8Array(width * height * 4);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    data[i] = (i & 3) === 3 ? 255 : s >>> 24;
  }
  return { width, height, data };
}

for (const [width, height] of [[1024, 1024], [1080, 1920]] as const) {
  const image = picture(width, height);
  for (const [name, rasterise] of [['resvg_js', rasteriseWithResvgJs], ['resvg_wasm', rasteriseWasm]] as const) {
    const stages: Record<string, number[]> = { layout: [], satori: [], resvg: [], composite: [], total: [] };
    for (let run = 0; run < 8; run++) {
      const t0 = performance.now();
      const layout = layoutAdCopy(copy, image, fonts);
      const t1 = performance.now();
      const svg = await overlaySvg(layout, fonts);
      const t2 = performance.now();
      const raster = await rasterise(svg);
      const t3 = performance.now();
      const overlay = { width, height, data: unpremultiply(new Uint8Array(raster.rgba)) };
      composite(layout.scrim ? applyScrim(image, layout.scrim) : image, overlay);
      const t4 = performance.now();
      if (run === 0) {
        figures[`${name}_${width}x${height}_first_ms`] = Math.round(t4 - t0);
        continue;
      }
      stages.layout!.push(t1 - t0);
      stages.satori!.push(t2 - t1);
      stages.resvg!.push(t3 - t2);
      stages.composite!.push(t4 - t3);
      stages.total!.push(t4 - t0);
    }
    for (const [stage, values] of Object.entries(stages)) figures[`${name}_${width}x${height}_${stage}_ms`] = Math.round(median(values) * 10) / 10;
    console.log(`${name} ${width}x${height}: ${Object.entries(stages).map(([stage, values]) => `${stage} ${median(values).toFixed(1)} ms`).join(', ')}`);
  }
}
console.log(JSON.stringify({ overlay: figures }));
