import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** Builds the scale bench page (not part of the app) into `.bench/dist`, served by the real server. */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  build: { outDir: fileURLToPath(new URL('../../.bench/dist', import.meta.url)), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  logLevel: 'warn',
});
