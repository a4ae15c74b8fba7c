import { cpSync, existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/** COOP/COEP make the page cross-origin isolated, so onnxruntime-web can run WASM with threads. */
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * Copies `public/` into the build except `public/models/`: model packages (gigabytes for real SDXL) are
 * served by the server from its models folder, not bundled with the app.
 */
function publicWithoutModels(): Plugin {
  return {
    name: 'ad-studio:public-without-models',
    apply: 'build',
    closeBundle() {
      const from = 'public';
      if (!existsSync(from)) return;
      cpSync(from, 'dist', { recursive: true, filter: (src) => !relative(from, src).split(sep).includes('models') });
    },
  };
}

export default defineConfig({
  plugins: [
    svelte(),
    publicWithoutModels(),
    VitePWA({
      registerType: 'autoUpdate',
      includeAssets: ['icon.svg'],
      manifest: {
        name: 'Ad Studio',
        short_name: 'Ad Studio',
        description: 'Advertising images for small businesses, made with SDXL on your own device.',
        theme_color: '#c2571a',
        background_color: '#f6f4f0',
        display: 'standalone',
        start_url: '/',
        icons: [{ src: 'icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      workbox: {
        // the app shell and the onnxruntime-web WASM binary (about 28 MB) work offline; model weights live in IndexedDB
        // also the ad copy's Korean font (Pretendard OTF) and resvg's wasm, so text can be laid over images offline
        globPatterns: ['**/*.{js,css,html,svg,wasm,otf,webmanifest}'],
        maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
        navigateFallback: '/index.html',
        navigateFallbackDenylist: [/^\/api\//, /^\/models\//],
      },
    }),
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
