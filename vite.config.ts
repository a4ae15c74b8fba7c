import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { compression } from 'vite-plugin-compression2';
import { VitePWA } from 'vite-plugin-pwa';

/** COOP/COEP make the page cross-origin isolated, so onnxruntime-web can run WASM with threads. */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * Copies `public/` into the build except `public/models/`: model packages (gigabytes for real SDXL) are
 * served by the server from its models folder, not bundled with the app. The files join the bundle (emitted
 * before Vite's own generateBundle step), so they are precompressed with the rest of it.
 */
function publicWithoutModels(): Plugin {
  return {
    name: 'ad-studio:public-without-models',
    apply: 'build',
    generateBundle: {
      order: 'pre',
      handler() {
        const from = 'public';
        if (!existsSync(from)) return;
        for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
          const path = join(entry.parentPath, entry.name);
          const fileName = relative(from, path).split(sep);
          if (!entry.isFile() || fileName.includes('models')) continue;
          this.emitFile({ type: 'asset', fileName: fileName.join('/'), source: readFileSync(path) });
        }
      },
    },
  };
}

/**
 * Brotli and gzip copies written next to each text-like or wasm asset at build time (`x.js.br`, `x.js.gz`), which
 * the server sends as they are (@fastify/static `preCompressed`): nothing is compressed per request. Brotli runs
 * at its best quality (11) up to 1 MiB and at quality 9 above, where 11 costs about 2 s a megabyte (two minutes for
 * onnxruntime's 27 MB wasm, 20 s for the 2 MB scripts, fonts and resvg wasm) for 10-15% less; gzip at level 9.
 * A copy no smaller than its original is not written.
 */
const PRECOMPRESS = /\.(?:html|js|mjs|css|svg|json|webmanifest|wasm|otf)$/;
const brotliAsync = promisify(brotliCompress);
const gzipAsync = promisify(gzip);
const brotli = (bytes: Uint8Array) =>
  brotliAsync(bytes, { params: { [zlib.BROTLI_PARAM_QUALITY]: bytes.length > 1024 * 1024 ? 9 : zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: bytes.length } });
const gzipBest = (bytes: Uint8Array) => gzipAsync(bytes, { level: zlib.Z_BEST_COMPRESSION });

const brotliAsset = (bytes: unknown) => brotli(bytes as Uint8Array);
const gzipAsset = (bytes: unknown) => gzipBest(bytes as Uint8Array);

function precompress(): Plugin[] {
  let outDir = 'dist';
  return [
    // the bundle (the app, its workers and wasm, the fonts, public/), as Vite writes it
    compression({
      include: PRECOMPRESS,
      algorithms: [
        [brotliAsset, {}],
        [gzipAsset, {}],
      ],
      filename: (_id, { algorithm }) => (algorithm === gzipAsset ? '[path][base].gz' : '[path][base].br'),
      logLevel: 'silent',
    }),
    // the service worker and workbox's runtime, which vite-plugin-pwa writes after the bundle
    {
      name: 'ad-studio:precompress-service-worker',
      apply: 'build',
      configResolved(config) {
        outDir = resolve(config.root, config.build.outDir);
      },
      closeBundle: {
        order: 'post',
        sequential: true,
        async handler() {
          for (const name of readdirSync(outDir).filter((f) => /^(?:sw|workbox-[\w-]+)\.js$/.test(f))) {
            const bytes = readFileSync(join(outDir, name));
            for (const [ext, compress] of [['br', brotli], ['gz', gzipBest]] as const) {
              const packed = await compress(bytes);
              if (packed.length < bytes.length) writeFileSync(join(outDir, `${name}.${ext}`), packed);
            }
          }
        },
      },
    },
  ];
}

/**
 * onnxruntime-web's wasm binaries (and its `.mjs` loader, should a build emit it as a file of its own), cached
 * at runtime, not precached.
 */
const ORT_ASSETS = /\/assets\/ort-wasm-[^/]*\.(?:wasm|mjs)$/;
const ORT_ASSETS_GLOB = ['**/ort-wasm-*.wasm', '**/ort-wasm-*.mjs'];
const ORT_CACHE = 'onnxruntime-wasm';

export default defineConfig({
  plugins: [
    svelte(),
    publicWithoutModels(),
    VitePWA({
      registerType: 'autoUpdate',
      // not in globPatterns: the manifest's icons are added by the plugin, this one by name
      includeAssets: ['apple-touch-icon.png'],
      manifest: {
        name: 'Ad Studio',
        short_name: 'Ad Studio',
        description: 'Advertising images for small businesses, made with SDXL on your own device.',
        theme_color: '#c2571a',
        background_color: '#f6f4f0',
        display: 'standalone',
        start_url: '/',
        // PNGs from icon.svg: `npm run icons` (scripts/icons.ts)
        icons: [
          { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
        ],
      },
      workbox: {
        // precached: the app shell, the ad copy's Korean font (Pretendard OTF) and the small wasm (resvg, the jSquash
        // codecs), so text can be laid over images and exported offline; model weights live in IndexedDB
        // (the web manifest is added by the plugin)
        globPatterns: ['**/*.{js,css,html,svg,wasm,otf}'],
        // onnxruntime-web's wasm (17-27 MB a build) is not: a device routed to the server never downloads it
        globIgnores: ['**/node_modules/**/*', ...ORT_ASSETS_GLOB],
        // a guard: a file over 8 MiB is left out of the precache (workbox warns); the largest precached is about 2.5 MB
        maximumFileSizeToCacheInBytes: 8 * 1024 * 1024,
        // ... it is cached on first use instead (the build this browser runs, jspi or asyncify), then works offline
        runtimeCaching: [
          {
            urlPattern: ORT_ASSETS,
            handler: 'CacheFirst',
            options: {
              cacheName: ORT_CACHE,
              // hashed names: a new release's file is a new entry; keep the one in use and the one before
              expiration: { maxEntries: 2, purgeOnQuotaError: true },
              cacheableResponse: { statuses: [200] },
            },
          },
        ],
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/models\//],
      },
    }),
    ...precompress(),
  ],
  build: { copyPublicDir: false, target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  server: {
    headers: isolation,
    proxy: { '/api': 'http://127.0.0.1:5178', '/models': 'http://127.0.0.1:5178' },
  },
  preview: { headers: isolation },
});
