/**
 * The tiny Marian fixture's tokenizer files, made from the product's own Korean and English: a Unigram
 * `source.spm` whose pieces are the glossary's and the ad cases' Korean words (each also coverable by its
 * syllables), a `target.spm` of the glossary's English words, and one `vocab.json` over both, in opus-mt's id
 * order (`</s>` 0, `<unk>` 1, ..., `<pad>` last).
 */
import { encodeSentencePieceModel, PieceType, SPACE_SYMBOL, type SentencePiece } from '../../src/core/translation/sentencepiece.ts';
import adCases from '../../src/core/product/ad-cases.json';
import glossary from '../../src/core/prompt/glossary.json';

/** Words of a text, split on whitespace. */
const words = (text: string) => text.split(/\s+/u).filter(Boolean);

/** Strings of every key (Korean) and every value (English) of the glossary's sections, recursively. */
function glossaryStrings(): { korean: string[]; english: string[] } {
  const korean: string[] = [];
  const english: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value === 'string') (/\p{Script=Hangul}/u.test(value) ? korean : english).push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (/\p{Script=Hangul}/u.test(k)) korean.push(k);
        walk(v);
      }
    }
  };
  const { about: _about, ...sections } = glossary as Record<string, unknown>;
  walk(sections);
  return { korean, english };
}

/** Unigram pieces for `texts`: "▁word" for every word (score -5), every other character alone (score -10). */
function pieces(texts: readonly string[], extraChars: string): SentencePiece[] {
  const wordPieces = new Set<string>();
  const chars = new Set<string>(extraChars);
  for (const text of texts) {
    for (const word of words(text.normalize('NFKC'))) {
      wordPieces.add(SPACE_SYMBOL + word);
      for (const ch of word) chars.add(ch);
    }
  }
  return [
    { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
    { piece: '<s>', score: 0, type: PieceType.CONTROL },
    { piece: '</s>', score: 0, type: PieceType.CONTROL },
    { piece: SPACE_SYMBOL, score: -8, type: PieceType.NORMAL },
    ...[...wordPieces].sort().map((piece) => ({ piece, score: -5, type: PieceType.NORMAL }) as SentencePiece),
    ...[...chars].sort().map((piece) => ({ piece, score: -10, type: PieceType.NORMAL }) as SentencePiece),
  ];
}

const NORMALIZER = { name: 'nmt_nfkc', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true };
const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?%-\'"()';

/** The fixture's tokenizer files and vocabulary size (the decoder's logits width). */
export interface MarianVocabulary {
  sourceSpm: Uint8Array;
  targetSpm: Uint8Array;
  vocab: Record<string, number>;
  vocabSize: number;
}

/** Builds the source and target SentencePiece models and the joint `vocab.json`. */
export function marianVocabulary(): MarianVocabulary {
  const { korean, english } = glossaryStrings();
  const cases = (adCases as { cases: { prompt: string; prompt_ko: string }[] }).cases;
  const source = pieces([...korean, ...cases.map((c) => c.prompt_ko)], ASCII);
  const target = pieces([...english, ...cases.map((c) => c.prompt)], ASCII);
  const vocab: Record<string, number> = { '</s>': 0, '<unk>': 1 };
  for (const p of [...source, ...target]) {
    if (p.type === PieceType.NORMAL && !(p.piece in vocab)) vocab[p.piece] = Object.keys(vocab).length;
  }
  vocab['<pad>'] = Object.keys(vocab).length;
  return {
    sourceSpm: encodeSentencePieceModel({ pieces: source, modelType: 'unigram', normalizer: NORMALIZER }),
    targetSpm: encodeSentencePieceModel({ pieces: target, modelType: 'unigram', normalizer: NORMALIZER }),
    vocab,
    vocabSize: Object.keys(vocab).length,
  };
}
