/**
 * The translation model's decoding loop on onnxruntime-node (CPU), over the tiny random-weight Marian package
 * (`npm run fixtures -- --translation`; its English is nonsense, so every case runs to the token limit): per
 * Korean ad case, milliseconds to translate with the key/value cache (`decoder_with_past_model.onnx`) and without
 * it (the full decoder every step), and their ratio. Then one JSON line. A real opus-mt-ko-en (d_model 512, 6+6
 * layers, 65k vocabulary) costs far more per step; this measures the loop, not the model.
 *
 *   npm run bench:translation          BENCH_TOKENS (default 48) tokens per translation
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeMarianPackage } from '../scripts/marian-fixture/package.ts';
import { DirectoryStore } from '../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../server/src/ortNodeRuntime.ts';
import type { FileStore } from '../src/core/loading/fileStore.ts';
import { AD_CASES } from '../src/core/product/index.ts';
import { MarianTranslator } from '../src/core/translation/marian.ts';

const TOKENS = Number(process.env.BENCH_TOKENS ?? 48);
const ROUNDS = 5;

const dir = mkdtempSync(join(tmpdir(), 'bench-marian-'));
try {
  writeMarianPackage(dir);
  const store = new DirectoryStore(dir);
  const withoutPast: FileStore = {
    readText: (p) => store.readText(p),
    readBytes: (p) => store.readBytes(p),
    exists: async (p) => p !== 'decoder_with_past_model.onnx' && (await store.exists(p)),
    localPath: (p) => store.localPath(p),
  };
  const runtime = createNodeRuntime('cpu');
  const cached = await MarianTranslator.load(store, runtime, 'tiny');
  const uncached = await MarianTranslator.load(withoutPast, runtime, 'tiny');
  /** Median milliseconds of `ROUNDS` translations of `text`, after one warm-up. */
  const time = async (model: MarianTranslator, text: string) => {
    await model.translate(text, { maxNewTokens: TOKENS });
    const runs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const started = performance.now();
      await model.translate(text, { maxNewTokens: TOKENS });
      runs.push(performance.now() - started);
    }
    return runs.sort((a, b) => a - b)[ROUNDS >> 1]!;
  };
  const rows: { id: string; input_tokens: number; cached_ms: number; uncached_ms: number }[] = [];
  for (const c of AD_CASES) {
    const row = { id: c.id, input_tokens: cached.tokenizer.encode(c.prompt_ko).inputIds.length, cached_ms: await time(cached, c.prompt_ko), uncached_ms: await time(uncached, c.prompt_ko) };
    rows.push(row);
    console.log(`${row.id.padEnd(16)} ${String(row.input_tokens).padStart(3)} tokens in   cached ${row.cached_ms.toFixed(1).padStart(6)} ms   uncached ${row.uncached_ms.toFixed(1).padStart(6)} ms`);
  }
  await Promise.all([cached.release(), uncached.release()]);
  const sum = (key: 'cached_ms' | 'uncached_ms') => rows.reduce((n, r) => n + r[key], 0);
  console.log(JSON.stringify({ output_tokens: TOKENS, cases: rows.length, cached_ms_per_case: sum('cached_ms') / rows.length, uncached_ms_per_case: sum('uncached_ms') / rows.length, uncached_over_cached: sum('uncached_ms') / sum('cached_ms') }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
