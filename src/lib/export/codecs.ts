/**
 * jSquash's wasm for the browser (page or worker): the export codecs and the Lanczos3 resizer that
 * `src/core/export` takes injected, the same files the server compiles (`server/src/export/codecs.ts`).
 *
 * Each `.wasm` is imported with Vite's `?url` (emitted as a hashed asset, precached by the service worker like
 * the other assets), compiled here and handed to its module's `init`, so nothing depends on jSquash finding its
 * files through `import.meta.url` (which Vite's dependency pre-bundling breaks in dev). Loaded on the first
 * export only: the codecs are about 1 MB of wasm.
 */
import { loadOnce } from '../../core/loadOnce.ts';
import { squooshResizer, type ExportCodecs, type Resizer } from '../../core/export/index.ts';
import pngWasm from '@jsquash/png/codec/pkg/squoosh_png_bg.wasm?url';
import jpegEncWasm from '@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm?url';
import webpEncSimdWasm from '@jsquash/webp/codec/enc/webp_enc_simd.wasm?url';
import webpEncWasm from '@jsquash/webp/codec/enc/webp_enc.wasm?url';
import resizeWasm from '@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm?url';

/** The probe `wasm-feature-detect`'s `simd()` validates, which @jsquash/webp's `init` uses to pick its build. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

async function compileWasm(url: string): Promise<WebAssembly.Module> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  // compileStreaming needs the application/wasm type; fall back to bytes for a server that sends another
  if (response.headers.get('content-type')?.startsWith('application/wasm')) return WebAssembly.compileStreaming(response);
  return WebAssembly.compile(await response.arrayBuffer());
}

/** jSquash's `init` takes a compiled module at run time, though its declarations only name Emscripten options. */
type InitWithModule = (module: WebAssembly.Module) => Promise<unknown>;
type Encode = (data: unknown, options?: object) => Promise<ArrayBuffer>;

async function loadCodecs(): Promise<ExportCodecs> {
  const simd = WebAssembly.validate(SIMD_PROBE);
  const [png, jpeg, webp, pngModule, jpegModule, webpModule] = await Promise.all([
    import('@jsquash/png/encode.js'),
    import('@jsquash/jpeg/encode.js'),
    import('@jsquash/webp/encode.js'),
    compileWasm(pngWasm),
    compileWasm(jpegEncWasm),
    compileWasm(simd ? webpEncSimdWasm : webpEncWasm),
  ]);
  await Promise.all([(png.init as InitWithModule)(pngModule), (jpeg.init as unknown as InitWithModule)(jpegModule), (webp.init as unknown as InitWithModule)(webpModule)]);
  const encodePng = png.default as unknown as Encode;
  const encodeJpeg = jpeg.default as unknown as Encode;
  const encodeWebp = webp.default as unknown as Encode;
  return {
    png: (image) => encodePng(image),
    jpeg: (image, options) => encodeJpeg(image, options),
    webp: (image, options) => encodeWebp(image, options),
  };
}

async function loadResizer(): Promise<Resizer> {
  const [wasm, module] = await Promise.all([import('@jsquash/resize/lib/resize/pkg/squoosh_resize.js'), compileWasm(resizeWasm)]);
  await wasm.default(module);
  return squooshResizer(wasm.resize);
}

/** The PNG, JPEG and WebP encoders for `encodeImage`, loaded once (a failed load is tried again next time). */
export const browserExportCodecs: () => Promise<ExportCodecs> = loadOnce(loadCodecs);

/** The Lanczos3 resizer for `resizeForExport`, loaded once. */
export const browserExportResizer: () => Promise<Resizer> = loadOnce(loadResizer);
