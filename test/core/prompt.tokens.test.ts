import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { clipVocabFromMerges } from '../../src/core/tokenizers/byteLevel.ts';
import { ClipTokenizer } from '../../src/core/tokenizers/clipTokenizer.ts';
import { AD_CASES, DEFAULTS } from '../../src/core/product/index.ts';
import { buildPrompt, estimateTokens, MAX_PROMPT_TOKENS, STYLE_PRESETS, STYLES, INDUSTRIES } from '../../src/core/prompt/index.ts';
import { glossaryEnglish } from '../../src/core/prompt/korean.ts';
import tokenCounts from '../../src/core/prompt/token-counts.json';
import { promptDataTexts } from '../../scripts/prompt-token-counts.ts';
import { SHARED_DIR } from '../helpers/fixture.ts';

/** The real CLIP BPE over openai/CLIP's merges in ../shared, counting without truncation. */
function realCount(): (text: string) => number {
  const text = gunzipSync(readFileSync(join(SHARED_DIR!, 'reference/clip/bpe_simple_vocab_16e6.txt.gz'))).toString('utf8');
  const merges = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
  const clip = new ClipTokenizer(clipVocabFromMerges(merges), merges, { padToken: '<|endoftext|>', maxLength: 1024 });
  return (t) => clip.encode(t).tokenCount;
}

const LONG_KO = Array.from({ length: 12 }, () => '갓 구운 크루아상과 빵이 진열된 전문 베이커리 내부').join(', ');
const LONG_EN = Array.from({ length: 20 }, (_, i) => `golden croissant number ${i}`).join(', ');

/** Every built prompt the tests can think of: 9 cases x ko/en x 3 styles x 8 industries, plus long ones. */
function builtPrompts(countTokens?: (t: string) => number) {
  const out = [];
  for (const c of AD_CASES) for (const text of [c.prompt, c.prompt_ko]) for (const style of STYLES) for (const industry of INDUSTRIES) out.push(buildPrompt({ text, style, industry }, countTokens ? { countTokens } : {}));
  for (const text of [LONG_KO, LONG_EN]) for (const style of STYLES) out.push(buildPrompt({ text, style, industry: 'bakery' }, countTokens ? { countTokens } : {}));
  return out;
}

describe('the estimator without the real tokenizer', () => {
  it('counts a piece it has not measured by its UTF-8 bytes', () => {
    expect(estimateTokens('zzqx')).toBe(4);
    expect(estimateTokens('카페')).toBe(6);
    expect(estimateTokens('bread, cake')).toBe(3);
  });
  it('has a measured count for every piece of every English word the data can emit', () => {
    const counts: Record<string, number> = tokenCounts.counts;
    const missing = promptDataTexts().flatMap((t) => [...t.toLowerCase().matchAll(/'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu)].map((m) => m[0])).filter((p) => !(p in counts));
    expect([...new Set(missing)]).toEqual([]);
  });
  it('keeps every built prompt within 75 estimated tokens unless the owner wrote more, dropping later tags first', () => {
    for (const built of builtPrompts()) {
      if (!built.over_limit) expect(built.tokens).toBeLessThanOrEqual(MAX_PROMPT_TOKENS);
    }
    const long = buildPrompt({ text: LONG_KO, style: 'ultra_realistic', industry: 'bakery' });
    expect(long.over_limit).toBe(true);
    expect(long.prompt.startsWith('professional bakery interior')).toBe(true);
    expect(long.dropped.slice(0, 5)).toEqual(['8k uhd', 'soft natural lighting', 'dslr', 'high detail', 'sharp focus']);
    expect(long.dropped.indexOf('warm light')).toBeLessThan(long.dropped.indexOf('photorealistic'));
  });
});

describe.skipIf(!SHARED_DIR)('token counts against the real CLIP BPE (skipped without ../shared/reference/clip)', () => {
  const real = SHARED_DIR ? realCount() : () => 0;

  it('token-counts.json holds the real count of each piece', () => {
    for (const [piece, n] of Object.entries(tokenCounts.counts as Record<string, number>)) expect(real(piece), piece).toBe(n);
  });

  it('never under-counts: glossary outputs, ad-case prompts, negatives, built prompts', () => {
    const texts = [...glossaryEnglish(), ...AD_CASES.flatMap((c) => [c.prompt, c.prompt_ko]), DEFAULTS.negative_prompt, ...STYLES.map((s) => STYLE_PRESETS[s].negative_prompt), LONG_KO, LONG_EN, 'Ünïcödé café ☕ 🍰 ½ 2024년 50%!!'];
    for (const built of builtPrompts()) texts.push(built.prompt);
    for (const text of texts) expect(estimateTokens(text), text).toBeGreaterThanOrEqual(real(text));
    // exact on the data it measured
    for (const text of glossaryEnglish()) expect(estimateTokens(text), text).toBe(real(text));
  });

  it('every style negative prompt fits in 75 content tokens (77 with BOS/EOS)', () => {
    for (const style of STYLES) expect(real(STYLE_PRESETS[style].negative_prompt), style).toBeLessThanOrEqual(MAX_PROMPT_TOKENS);
  });

  it('built prompts fit in 75 real tokens; owner text past 75 is kept whole and reported', () => {
    for (const built of builtPrompts(real)) {
      expect(real(built.prompt)).toBe(built.tokens);
      if (!built.over_limit) expect(built.tokens).toBeLessThanOrEqual(MAX_PROMPT_TOKENS);
    }
    for (const text of [LONG_KO, LONG_EN]) {
      const built = buildPrompt({ text, style: 'anime', industry: 'cafe' }, { countTokens: real });
      expect(built.over_limit).toBe(true);
      expect(built.tokens).toBeGreaterThan(MAX_PROMPT_TOKENS);
      // nothing but the owner's words is left, and all of them are there
      expect(built.dropped).toHaveLength(4 + 3);
      if (text === LONG_EN) expect(built.prompt).toBe(LONG_EN);
    }
  });

  it('drops only what it must: a prompt near the limit keeps the high-priority tags', () => {
    const text = Array.from({ length: 9 }, (_, i) => `fresh bread loaf ${i}`).join(', ');
    const built = buildPrompt({ text, style: 'ultra_realistic', industry: 'bakery' }, { countTokens: real });
    expect(built.over_limit).toBe(false);
    expect(built.tokens).toBeLessThanOrEqual(MAX_PROMPT_TOKENS);
    expect(built.prompt.startsWith('RAW photo')).toBe(true);
    expect(built.dropped.length).toBeGreaterThan(0);
    // putting back the last dropped part would pass the limit
    const last = built.dropped.at(-1)!;
    expect(real(`${built.prompt}, ${last}`)).toBeGreaterThan(MAX_PROMPT_TOKENS);
  });
});
