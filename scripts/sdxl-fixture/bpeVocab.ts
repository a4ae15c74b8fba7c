/**
 * A small CLIP-style BPE vocabulary learned from the product's own prompts, in CLIP's vocabulary order
 * (openai/CLIP `simple_tokenizer.py`): the 256 byte symbols, the same with `</w>`, one token per merge,
 * then `<|startoftext|>` and `<|endoftext|>` (the end token has the largest id, as text encoders pool
 * at the argmax of the ids).
 */
import { byteSymbolsInVocabOrder, bytesToUnicode, clipVocabFromMerges } from '../../src/core/tokenizers/byteLevel.ts';

const PATTERN = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

/** Learns `mergeCount` merges from `corpus` (most frequent pair first; ties by symbol order). */
export function learnClipBpe(corpus: readonly string[], mergeCount: number): { vocab: Record<string, number>; merges: string[] } {
  const byteChars = bytesToUnicode();
  const words = new Map<string, number>();
  for (const text of corpus) {
    for (const word of text.normalize('NFC').replace(/\s+/g, ' ').toLowerCase().match(PATTERN) ?? []) {
      words.set(word, (words.get(word) ?? 0) + 1);
    }
  }
  const encoder = new TextEncoder();
  let segmented = [...words].map(([word, count]) => {
    const symbols = Array.from(encoder.encode(word), (b) => byteChars[b]!);
    symbols[symbols.length - 1] += '</w>';
    return { symbols, count };
  });
  const merges: string[] = [];
  const tokens = new Set([...byteSymbolsInVocabOrder(), ...byteSymbolsInVocabOrder().map((c) => `${c}</w>`)]);
  while (merges.length < mergeCount) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of segmented) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    // a pair whose result is already a token (reached by another split) would give the token two ids
    const candidates = [...pairs].filter(([key]) => !tokens.has(key.replace(' ', '')));
    const best = candidates.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    if (!best || best[1] < 2) break;
    const [left, right] = best[0].split(' ') as [string, string];
    merges.push(best[0]);
    tokens.add(left + right);
    segmented = segmented.map(({ symbols, count }) => {
      const out: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          out.push(left + right);
          i++;
        } else out.push(symbols[i]!);
      }
      return { symbols: out, count };
    });
  }
  return { vocab: clipVocabFromMerges(merges), merges };
}
