/**
 * The Marian translator (src/core/translation/marian.ts) on onnxruntime-node's CPU provider, over the tiny
 * random-weight package `npm run fixtures -- --translation` writes: greedy decoding checked by teacher forcing,
 * the cached (decoder_with_past) and uncached loops agree, limits, cancel, and the prompt builder with it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMarianPackage } from '../../scripts/marian-fixture/package.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import type { FileStore } from '../../src/core/loading/fileStore.ts';
import adCases from '../../src/core/product/ad-cases.json';
import { buildPrompt, buildPromptTranslated } from '../../src/core/prompt/index.ts';
import { intTensor, asFloat32 } from '../../src/core/tensor.ts';
import { MarianTranslator } from '../../src/core/translation/marian.ts';
import { GenerationCancelledError } from '../../src/core/types.ts';

const korean = (adCases as { cases: { prompt_ko: string }[] }).cases.map((c) => c.prompt_ko);
const runtime = createNodeRuntime('cpu');
let dir: string;
let cached: MarianTranslator;
let uncached: MarianTranslator;

/** The package without `decoder_with_past_model.onnx`: the loop recomputes every step from the whole output. */
const withoutPast = (store: FileStore): FileStore => ({
  readText: (p) => store.readText(p),
  readBytes: (p) => store.readBytes(p),
  exists: async (p) => p !== 'decoder_with_past_model.onnx' && (await store.exists(p)),
  localPath: (p) => store.localPath?.(p),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marian-'));
  writeMarianPackage(dir);
  cached = await MarianTranslator.load(new DirectoryStore(dir), runtime, 'opus-mt-ko-en');
  uncached = await MarianTranslator.load(withoutPast(new DirectoryStore(dir)), runtime, 'opus-mt-ko-en');
});
afterAll(async () => {
  await Promise.all([cached?.release(), uncached?.release()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('MarianTranslator', () => {
  it('reuses keys and values when the export has decoder_with_past_model.onnx, and both loops give the same tokens', async () => {
    expect([cached.cached, uncached.cached]).toEqual([true, false]);
    for (const text of korean.slice(0, 4)) {
      const a = await cached.translate(text, { maxNewTokens: 12 });
      const b = await uncached.translate(text, { maxNewTokens: 12 });
      expect(a.text).toBe(b.text);
      expect(a.outputTokens).toBe(b.outputTokens);
      expect(a.inputTokens).toBe(cached.tokenizer.encode(text).inputIds.length);
    }
  });

  it('decodes greedily: each generated token is the argmax of the full decoder at its position (teacher forcing), never <pad>', async () => {
    const text = korean[0]!;
    const ids = cached.tokenizer.encode(text).inputIds;
    const generated: number[] = [];
    // the translator returns text: the test's own argmax loop over the full decoder must give the same text
    const out = await uncached.translate(text, { maxNewTokens: 10 });
    const encoder = await runtime.createSession({ component: 'e', modelPath: 'encoder_model.onnx', externalData: [], store: new DirectoryStore(dir) });
    const decoder = await runtime.createSession({ component: 'd', modelPath: 'decoder_model.onnx', externalData: [], store: new DirectoryStore(dir) });
    const n = ids.length;
    const hidden = (await encoder.run({ input_ids: intTensor(ids, [1, n], 'int64'), attention_mask: intTensor(new Array(n).fill(1), [1, n], 'int64') }))['last_hidden_state']!;
    const pad = cached.tokenizer.padId;
    const sequence = [pad];
    for (let step = 0; step < out.outputTokens; step++) {
      const logits = asFloat32((await decoder.run({ input_ids: intTensor(sequence, [1, sequence.length], 'int64'), encoder_attention_mask: intTensor(new Array(n).fill(1), [1, n], 'int64'), encoder_hidden_states: hidden }, ['logits']))['logits']!);
      const vocab = logits.dims[2]!;
      const row = logits.data.subarray((sequence.length - 1) * vocab, sequence.length * vocab);
      let best = -1;
      row.forEach((v, j) => {
        if (j !== pad && (best < 0 || v > row[best]!)) best = j;
      });
      sequence.push(best);
      generated.push(best);
    }
    await Promise.all([encoder.release(), decoder.release()]);
    expect(generated).not.toContain(pad);
    expect(cached.tokenizer.decode(generated)).toBe(out.text);
    expect(out.outputTokens).toBe(10);
  });

  it('stops at maxNewTokens and at max_position_embeddings - 1, and says the output was cut', async () => {
    const short = await cached.translate(korean[1]!, { maxNewTokens: 3 });
    expect(short).toMatchObject({ outputTokens: 3, truncated: true });
    // the fixture has 64 positions: a random model that never says </s> stops at 63 tokens
    const long = await cached.translate(korean[1]!, { maxNewTokens: 1000 });
    expect(long.outputTokens).toBeLessThanOrEqual(63);
    expect(long.runMs).toBeGreaterThanOrEqual(0);
  });

  it('checks its signal before every decoder step', async () => {
    let steps = 0;
    const signal = {
      get aborted() {
        return ++steps > 2;
      },
    };
    await expect(cached.translate(korean[2]!, { signal })).rejects.toBeInstanceOf(GenerationCancelledError);
  });

  it('refuses a package that is not Marian, naming the file', async () => {
    const store = new DirectoryStore(dir);
    const notMarian: FileStore = { ...withoutPast(store), readText: async (p) => (p === 'config.json' ? '{"model_type":"bart"}' : store.readText(p)) };
    await expect(MarianTranslator.load(notMarian, runtime, 'x')).rejects.toThrow('config.json: model_type "bart" is not a Marian translation model ("marian")');
  });
});

describe('the prompt builder with a translation model', () => {
  const translator = () => ({ id: 'opus-mt-ko-en', translate: async (text: string) => (await cached.translate(text, { maxNewTokens: 8 })).text });

  it('builds from the model English for Korean text, after the no-text guard, and records the model', async () => {
    const input = { text: '"오늘만 할인" 글씨 없이 갓 구운 크루아상', style: 'ultra_realistic' as const, industry: 'bakery' as const };
    const seen: string[] = [];
    const model = { id: 'opus-mt-ko-en', translate: async (text: string) => (seen.push(text), 'freshly baked croissants') };
    const built = await buildPromptTranslated(input, model);
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain('오늘만 할인');
    expect(built.translation).toEqual({ model: 'opus-mt-ko-en', text: 'freshly baked croissants' });
    expect(built.prompt).toBe(buildPrompt({ ...input, text: 'freshly baked croissants' }).prompt);
    expect(built.removed_text).toEqual(buildPrompt(input).removed_text);
  });

  it('runs the real loop end to end, keeps the glossary for English text and for an empty answer', async () => {
    const built = await buildPromptTranslated({ text: korean[0]!, style: 'anime' }, translator());
    expect(built.translation?.model).toBe('opus-mt-ko-en');
    expect(built.translation!.text).toBe((await cached.translate(korean[0]!, { maxNewTokens: 8 })).text);
    const english = { text: 'fresh croissants on a table', style: 'anime' as const };
    expect(await buildPromptTranslated(english, translator())).toEqual(buildPrompt(english));
    const silent = await buildPromptTranslated({ text: korean[0]!, style: 'anime' }, { id: 'm', translate: async () => '  ' });
    expect(silent).toEqual({ ...buildPrompt({ text: korean[0]!, style: 'anime' }), translation: { model: 'm', text: '' } });
  });
});
