import { describe, expect, it } from 'vitest';
import { marianVocabulary } from '../../scripts/marian-fixture/vocabulary.ts';
import { MarianTokenizer } from '../../src/core/translation/marianTokenizer.ts';
import { encodeSentencePieceModel, parseSentencePieceModel, PieceType, SentencePieceModelError, unigramTokenizer } from '../../src/core/translation/sentencepiece.ts';
import adCases from '../../src/core/product/ad-cases.json';

const NORMALIZER = { name: 'nmt_nfkc', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true };

describe('SentencePiece models', () => {
  it('round-trips a ModelProto: pieces with scores and types, model type, normaliser spec', () => {
    const model = {
      pieces: [
        { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
        { piece: '</s>', score: 0, type: PieceType.CONTROL },
        { piece: '▁빵', score: -1.5, type: PieceType.NORMAL },
      ],
      modelType: 'unigram' as const,
      normalizer: { ...NORMALIZER, precompiledCharsmap: Uint8Array.of(1, 2, 3), addDummyPrefix: false },
    };
    expect(parseSentencePieceModel(encodeSentencePieceModel(model))).toEqual(model);
  });

  it('refuses bytes that are not a model, naming the file', () => {
    expect(() => parseSentencePieceModel(Uint8Array.of(0x0a, 0xff, 0xff), 'source.spm')).toThrow(SentencePieceModelError);
    expect(() => parseSentencePieceModel(Uint8Array.of(0x0a, 0xff, 0xff), 'source.spm')).toThrow(/^source\.spm: not a SentencePiece model/);
    const noUnk = encodeSentencePieceModel({ pieces: [{ piece: '▁a', score: -1, type: PieceType.NORMAL }], modelType: 'unigram', normalizer: NORMALIZER });
    expect(() => parseSentencePieceModel(noUnk, 'x.spm')).toThrow('x.spm: the SentencePiece model has no unknown piece');
    const bpe = parseSentencePieceModel(encodeSentencePieceModel({ pieces: [{ piece: '<unk>', score: 0, type: PieceType.UNKNOWN }], modelType: 'bpe', normalizer: NORMALIZER }));
    expect(() => unigramTokenizer(bpe, 'b.spm')).toThrow('b.spm: a bpe SentencePiece model; only unigram models are supported');
  });

  it('segments by the highest total score (Viterbi), with "▁" for spaces and in front, NFKC and collapsed whitespace', () => {
    const model = {
      pieces: [
        { piece: '<unk>', score: 0, type: PieceType.UNKNOWN },
        { piece: '▁', score: -3, type: PieceType.NORMAL },
        { piece: '▁크루아상', score: -4, type: PieceType.NORMAL },
        { piece: '▁크루', score: -2, type: PieceType.NORMAL },
        { piece: '아상', score: -3, type: PieceType.NORMAL },
        { piece: '과', score: -2, type: PieceType.NORMAL },
        { piece: '▁빵', score: -2, type: PieceType.NORMAL },
        { piece: '1', score: -2, type: PieceType.NORMAL },
      ],
      modelType: 'unigram' as const,
      normalizer: NORMALIZER,
    };
    const spm = unigramTokenizer(model);
    // ▁크루아상 (-4) beats ▁크루 + 아상 (-5)
    expect(spm.tokenize('크루아상과   빵')).toEqual(['▁크루아상', '과', '▁빵']);
    // full-width digit one -> "1" (NFKC); a character no piece covers comes out as itself (SentencePiece's surface)
    expect(spm.tokenize('  빵１ 쀍 ')).toEqual(['▁빵', '1', '▁', '쀍']);
    expect(spm.tokenize(' \n ')).toEqual([]);
  });
});

describe('MarianTokenizer (source.spm + vocab.json)', () => {
  const fixture = marianVocabulary();
  const tokenizer = new MarianTokenizer(fixture.sourceSpm, fixture.vocab, { model_max_length: 512 });

  it('has opus-mt ids: </s> 0, <unk> 1, <pad> last', () => {
    expect([tokenizer.eosId, tokenizer.unkId, tokenizer.padId]).toEqual([0, 1, fixture.vocabSize - 1]);
    expect(tokenizer.vocabSize).toBe(fixture.vocabSize);
  });

  it('encodes every Korean ad case to known pieces, then </s>', () => {
    for (const c of (adCases as { cases: { prompt_ko: string }[] }).cases) {
      const { inputIds, truncated } = tokenizer.encode(c.prompt_ko);
      expect(truncated).toBe(false);
      expect(inputIds.at(-1)).toBe(0);
      expect(inputIds.slice(0, -1)).not.toContain(tokenizer.unkId);
      // whole words are pieces of the fixture: one id per word
      expect(inputIds.length - 1).toBe(c.prompt_ko.trim().split(/\s+/).length);
    }
  });

  it('maps pieces missing from vocab.json to <unk>, cuts to model_max_length keeping </s>, and decodes without specials', () => {
    expect(tokenizer.encode('쀍').inputIds).toEqual([fixture.vocab['▁']!, tokenizer.unkId, 0]);
    const short = new MarianTokenizer(fixture.sourceSpm, fixture.vocab, { model_max_length: 3 });
    expect(short.encode('갓 구운 크루아상과 빵')).toEqual({ inputIds: [fixture.vocab['▁갓'], fixture.vocab['▁구운'], 0], truncated: true });
    const ids = ['▁fresh', '▁croissants', '▁cake', 's', '<unk>', '</s>', '<pad>'].map((t) => fixture.vocab[t]!);
    expect(tokenizer.decode(ids)).toBe('fresh croissants cakes');
  });

  it('names a missing special token', () => {
    const { '<pad>': _pad, ...noPad } = fixture.vocab;
    expect(() => new MarianTokenizer(fixture.sourceSpm, noPad)).toThrow('vocab.json has no "<pad>" token');
  });
});
