/**
 * The resvg-wasm rasteriser itself, without its wasm loading (the browser fetches the wasm from a Vite asset URL,
 * Node tests and benches read it from node_modules): call `initWasm` once first.
 */
import { Resvg } from '@resvg/resvg-wasm';
import type { Rasterise } from '../../core/overlay/index.ts';

/** Rasterises satori's SVG at its own size with no system fonts: premultiplied RGBA, as `Rasterise` says. */
export const rasteriseWithResvgWasm: Rasterise = async (svg) => {
  const resvg = new Resvg(svg, { font: { loadSystemFonts: false }, fitTo: { mode: 'original' } });
  const rendered = resvg.render();
  // `pixels` copies out of the wasm heap; both objects own wasm memory until freed
  const result = { width: rendered.width, height: rendered.height, rgba: rendered.pixels };
  rendered.free();
  resvg.free();
  return result;
};
