/**
 * jSquash's wasm for Node: the export codecs (PNG, mozjpeg, libwebp) and Lanczos3 resize that `src/core/export`
 * takes injected, the same wasm files the browser loads. Node has no `fetch` of `file:` URLs for the wasm, so
 * each `.wasm` is read from node_modules, compiled once, and handed to the module's `init`. Modules are loaded
 * and compiled on first use (about 0.2 s for all), then shared by every caller.
 */
import { loadOnce } from '../../../src/core/loadOnce.ts';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { squooshResizer, type ExportCodecs, type Resizer } from '../../../src/core/export/index.ts';

const require = createRequire(import.meta.url);

/** Compiles a wasm file of a package (resolved as `require.resolve` does). */
async function compileWasm(specifier: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await readFile(require.resolve(specifier)));
}

/**
 * jSquash's `init` accepts a compiled module at run time (its first argument, `WebAssembly.Module`), though its
 * type declarations only name the Emscripten options argument.
 */
type InitWithModule = (module: WebAssembly.Module) => Promise<unknown>;
type Encode = (data: unknown, options?: object) => Promise<ArrayBuffer>;

async function loadCodecs(): Promise<ExportCodecs> {
  const [png, jpeg, webp] = await Promise.all([import('@jsquash/png/encode.js'), import('@jsquash/jpeg/encode.js'), import('@jsquash/webp/encode.js')]);
  // @jsquash/webp's init picks the SIMD or plain build by feature detection; Node >= 16.4 always has wasm SIMD
  await Promise.all([
    (png.init as InitWithModule)(await compileWasm('@jsquash/png/codec/pkg/squoosh_png_bg.wasm')),
    (jpeg.init as unknown as InitWithModule)(await compileWasm('@jsquash/jpeg/codec/enc/mozjpeg_enc.wasm')),
    (webp.init as unknown as InitWithModule)(await compileWasm('@jsquash/webp/codec/enc/webp_enc_simd.wasm')),
  ]);
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
  const wasm = await import('@jsquash/resize/lib/resize/pkg/squoosh_resize.js');
  await wasm.default(await compileWasm('@jsquash/resize/lib/resize/pkg/squoosh_resize_bg.wasm'));
  return squooshResizer(wasm.resize);
}

/** The PNG, JPEG and WebP encoders for `encodeImage`, initialised once. */
export const nodeExportCodecs: () => Promise<ExportCodecs> = loadOnce(loadCodecs);

/** The Lanczos3 resizer for `resizeForExport`, initialised once. */
export const nodeExportResizer: () => Promise<Resizer> = loadOnce(loadResizer);
