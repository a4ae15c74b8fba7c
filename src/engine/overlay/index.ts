/**
 * The overlay's browser side (page or worker): Pretendard and resvg's wasm as Vite asset URLs, fetched on
 * first use. Use with `renderAdCopy(copy, image, { fonts: await loadOverlayFonts(), rasterise: await browserRasteriser() })`.
 */
import { initWasm } from '@resvg/resvg-wasm';
import resvgWasmUrl from '@resvg/resvg-wasm/index_bg.wasm?url';
import pretendardBoldUrl from 'pretendard/dist/public/static/Pretendard-Bold.otf?url';
import pretendardRegularUrl from 'pretendard/dist/public/static/Pretendard-Regular.otf?url';
import { loadOnce } from '../../core/loadOnce.ts';
import type { OverlayFonts, Rasterise } from '../../core/overlay/index.ts';
import { rasteriseWithResvgWasm } from './resvgWasm.ts';

/** The asset URLs this module fetches (about 1.6 MB per font, 2.5 MB of wasm); for a service worker's precache. */
export const OVERLAY_ASSET_URLS = { regular: pretendardRegularUrl, bold: pretendardBoldUrl, resvgWasm: resvgWasmUrl } as const;

async function fetchBytes(url: string): Promise<ArrayBuffer> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`overlay asset ${url}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

/** Pretendard Regular and Bold, fetched once (a failed fetch is retried on the next call). */
export const loadOverlayFonts: () => Promise<OverlayFonts> = loadOnce(async () => {
  const [regular, bold] = await Promise.all([fetchBytes(pretendardRegularUrl), fetchBytes(pretendardBoldUrl)]);
  return { regular, bold };
});

const initResvg = loadOnce(() => initWasm(fetch(resvgWasmUrl)));

/** The resvg-wasm rasteriser (premultiplied RGBA, no system fonts), its wasm initialised once. */
export async function browserRasteriser(): Promise<Rasterise> {
  await initResvg();
  return rasteriseWithResvgWasm;
}
