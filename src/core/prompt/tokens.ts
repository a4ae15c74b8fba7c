/**
 * A CLIP token-count estimator that never counts fewer tokens than the real CLIP BPE (openai/CLIP
 * `simple_tokenizer.py`, as Hugging Face's `CLIPTokenizer`): the text is split with CLIP's pattern after
 * NFC and lower-casing; a piece found in `token-counts.json` (every English word the glossary, styles and
 * industries can emit, measured once with the real merges by `scripts/prompt-token-counts.ts` and checked by
 * the tests) counts what it measured; any other piece counts its UTF-8 bytes, an upper bound, since byte-level
 * BPE starts from one symbol per byte and merges only reduce them. Runs in the browser and in Node.
 */
import tokenCounts from './token-counts.json';

/** CLIP's pre-tokenizer pattern (as in `src/core/tokenizers/clipTokenizer.ts`). */
const CLIP_PIECES = /'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+/gu;

const COUNTS: Readonly<Record<string, number>> = tokenCounts.counts;

/** UTF-8 length of a string. */
function utf8Bytes(text: string): number {
  let n = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The pieces CLIP's pre-tokenizer makes of `text` (lower-cased, NFC). */
export function clipPieces(text: string): string[] {
  return [...text.normalize('NFC').toLowerCase().matchAll(CLIP_PIECES)].map((m) => m[0]);
}

/**
 * Estimated CLIP tokens of `text` (without BOS/EOS): exact for words in `token-counts.json`, UTF-8 bytes per
 * piece otherwise; never below the real count.
 */
export function estimateTokens(text: string): number {
  let n = 0;
  for (const piece of clipPieces(text)) n += COUNTS[piece] ?? utf8Bytes(piece);
  return n;
}

/** Whether `piece` has a measured count. */
export const hasMeasuredCount = (piece: string): boolean => piece in COUNTS;
