import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { clipVocabFromMerges } from '../../src/core/tokenizers/byteLevel.ts';
import { ClipTokenizer, parseMerges } from '../../src/core/tokenizers/clipTokenizer.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { loadClipTokenizer } from '../../src/core/pipelines/sdxl/load.ts';
import { FIXTURE_DIR, SHARED_DIR } from '../helpers/fixture.ts';
import reference from '../fixtures/clip-ids.json';

/** The real CLIP tokenizer, from openai/CLIP's merges in ../shared (vocab follows from the merges). */
function realClip(padToken: string): ClipTokenizer {
  const text = gunzipSync(readFileSync(join(SHARED_DIR!, 'reference/clip/bpe_simple_vocab_16e6.txt.gz'))).toString('utf8');
  // openai/CLIP SimpleTokenizer: merges = lines[1 : 49152 - 256 - 2 + 1]
  const merges = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
  return new ClipTokenizer(clipVocabFromMerges(merges), merges, { padToken, maxLength: 77 });
}

describe.skipIf(!SHARED_DIR)('CLIP tokenizer with the real CLIP merges (skipped without ../shared/reference/clip)', () => {
  it('"a photo of a cat" -> 49406, 320, 1125, 539, 320, 2368, 49407, padded with <|endoftext|>', () => {
    const { inputIds, tokenCount } = realClip('<|endoftext|>').encode('a photo of a cat');
    expect(inputIds.slice(0, 7)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407]);
    expect(inputIds).toHaveLength(77);
    expect(inputIds.slice(7).every((id) => id === 49407)).toBe(true);
    expect(tokenCount).toBe(5);
  });

  it('tokenizer_2 pads with "!" (id 0), lower-cases and collapses whitespace', () => {
    const { inputIds } = realClip('!').encode('  A   PHOTO of a\tCat ');
    expect(inputIds.slice(0, 8)).toEqual([49406, 320, 1125, 539, 320, 2368, 49407, 0]);
  });

  // test/fixtures/clip-ids.json: a Python transcription of transformers' slow CLIPTokenizer (BasicTokenizer
  // clean-up without ftfy, the CLIP regex, openai/CLIP's bpe()) over the same merges, written by
  // scripts/reference/clip_tokenize.py: the ad-cases prompts in English and Korean, the default negative
  // prompt, emoji and ZWJ sequences, CJK, accents, numbers, punctuation, control characters, typed special
  // tokens, and prompts of 90 and 160 tokens.
  it(`gives the ids of Hugging Face's CLIPTokenizer for ${reference.cases.length} prompts`, () => {
    const tokenizer = realClip('<|endoftext|>');
    for (const { text, ids } of reference.cases) {
      const { inputIds, tokenCount } = tokenizer.encode(text);
      const kept = Math.min(ids.length, 75);
      expect(tokenCount, text).toBe(kept);
      expect(inputIds.slice(1, 1 + kept), text).toEqual(ids.slice(0, kept));
    }
  });

  it('numbers are single digits and punctuation runs are one token (ids derived from the vocab order)', () => {
    // "0</w>" is 256 + 15 = 271 (the 16th byte symbol, "0" = 0x30 after "!" = 0x21); "," is 256 + 11
    const { inputIds } = realClip('<|endoftext|>').encode('2024, 10');
    expect(inputIds.slice(1, 8)).toEqual([273, 271, 273, 275, 267, 272, 271]);
  });

  it('truncates to 77 with the end token kept, and reports the cut text', () => {
    const prompt = Array.from({ length: 80 }, (_, i) => (i === 79 ? 'zebra' : 'cat')).join(' ');
    const { inputIds, tokenCount, truncatedText } = realClip('<|endoftext|>').encode(prompt);
    expect(inputIds).toHaveLength(77);
    expect(inputIds[76]).toBe(49407);
    expect(tokenCount).toBe(75);
    expect(truncatedText).toBe('cat cat cat cat zebra');
  });

  it('reports a Korean cut from a whole character, never from half of one (U+FFFD)', () => {
    const clip = realClip('<|endoftext|>');
    // Hangul syllables are 3 UTF-8 bytes split over byte-level tokens: some lengths put the cut inside one
    for (let n = 20; n < 40; n++) {
      const prompt = '갓 구운 크루아상과 빵이 진열된 전문 베이커리 '.repeat(8).slice(0, n * 4);
      const { truncatedText } = clip.encode(prompt);
      expect(truncatedText).not.toContain('\uFFFD');
    }
    // the longest case cuts something, reported as Korean text
    expect(clip.encode('갓 구운 크루아상과 빵이 진열된 전문 베이커리 '.repeat(8)).truncatedText).toMatch(/^[\uac00-\ud7a3]/);
  });
});

describe('the tiny fixture tokenizers', () => {
  it('read vocab.json, merges.txt and the pad token of each folder', async () => {
    const store = new DirectoryStore(FIXTURE_DIR);
    const [first, second] = await Promise.all([loadClipTokenizer(store, 'tokenizer'), loadClipTokenizer(store, 'tokenizer_2')]);
    const a = first.encode('갓 구운 크루아상');
    const b = second.encode('갓 구운 크루아상');
    expect(a.inputIds[0]).toBe(first.bosId);
    expect(a.inputIds.slice(0, a.tokenCount + 2)).toEqual(b.inputIds.slice(0, b.tokenCount + 2));
    expect(a.inputIds.at(-1)).toBe(first.eosId);
    expect(b.inputIds.at(-1)).toBe(second.padId);
    expect(second.padId).not.toBe(second.eosId);
    expect(first.eosId).toBe(Math.max(...a.inputIds));
  });

  it('rejects a malformed merges file', () => {
    expect(() => parseMerges('#version: 0.2\na b\nabc\n')).toThrow(/malformed line "abc"/);
  });
});
