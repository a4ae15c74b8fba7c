/**
 * Export timings on this machine (Node, jSquash wasm): a photo-like 1024x1024 "generated" image resized to
 * 1080x1350 (crop and fit), then encoded as PNG, JPEG q90 and WebP q90. `npx tsx bench/export.ts`; the last
 * line is one JSON object. Each figure is the median of `RUNS` after one warm-up.
 */
import { nodeExportCodecs, nodeExportResizer } from '../server/src/export/codecs.ts';
import { encodeImage, resizeForExport, type ExportFormat } from '../src/core/export/index.ts';
import { photoImage, psnr, nodeDecoders } from '../test/core/export/helpers.ts';

const RUNS = 5;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let value = await fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    value = await fn();
    times.push(performance.now() - start);
  }
  return { ms: Math.round(median(times)), value };
}

const initStart = performance.now();
const [resize, codecs, decoders] = await Promise.all([nodeExportResizer(), nodeExportCodecs(), nodeDecoders()]);
const initMs = Math.round(performance.now() - initStart);
const source = photoImage(1024, 1024);
const crop = await time(() => resizeForExport(source, '1080x1350', 'crop', resize));
const fit = await time(() => resizeForExport(source, '1080x1350', 'fit', resize));
const image = crop.value;
const formats: Record<string, { ms: number; bytes: number; psnrDb: number | null }> = {};
for (const format of ['png', 'jpeg', 'webp'] as ExportFormat[]) {
  const { ms, value } = await time(() => encodeImage(image, format, codecs));
  const db = psnr((await decoders[format](value.bytes)).data, image.data);
  formats[format] = { ms, bytes: value.bytes.length, psnrDb: Number.isFinite(db) ? Math.round(db * 100) / 100 : null };
  console.log(`${format.padEnd(4)} ${String(ms).padStart(5)} ms ${String(value.bytes.length).padStart(9)} bytes ${Number.isFinite(db) ? `${db.toFixed(2)} dB` : 'lossless'}`);
}
console.log(`resize 1024x1024 -> 1080x1350: crop ${crop.ms} ms, fit ${fit.ms} ms; wasm init ${initMs} ms`);
console.log(JSON.stringify({ node: process.version, source: '1024x1024', size: '1080x1350', initMs, resizeMs: { crop: crop.ms, fit: fit.ms }, encode: formats }));
