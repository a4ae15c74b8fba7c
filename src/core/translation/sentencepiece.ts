/**
 * SentencePiece model files (`*.spm`, `*.model`): the `ModelProto` protobuf of google/sentencepiece
 * (`src/sentencepiece_model.proto`), read and written with protobufjs' wire-format reader and writer, and a
 * Unigram tokenizer built from one with `@huggingface/tokenizers` (the transformers.js tokenizer package), set
 * up the way transformers' `SpmConverter` converts a SentencePiece model.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import protobuf from 'protobufjs/minimal.js';

/** `SentencePiece.Type` of sentencepiece_model.proto. */
export const PieceType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, UNUSED: 5, BYTE: 6 } as const;
export type PieceTypeCode = (typeof PieceType)[keyof typeof PieceType];

/** `TrainerSpec.ModelType`. */
const MODEL_TYPES = { 1: 'unigram', 2: 'bpe', 3: 'word', 4: 'char' } as const;
export type SentencePieceModelType = (typeof MODEL_TYPES)[keyof typeof MODEL_TYPES];

export interface SentencePiece {
  piece: string;
  /** Log probability (Unigram) or merge rank (BPE). */
  score: number;
  type: PieceTypeCode;
}

/** The parts of `NormalizerSpec` tokenisation depends on (proto defaults when absent). */
export interface NormalizerSpec {
  /** `nmt_nfkc` (the default), `nfkc`, `identity`, ... */
  name: string;
  /** The compiled normalisation rules (a double-array trie); empty for `identity`. */
  precompiledCharsmap: Uint8Array;
  /** Prepend "▁" to the text (default true). */
  addDummyPrefix: boolean;
  /** Trim the text and collapse whitespace runs to one space (default true). */
  removeExtraWhitespaces: boolean;
}

export interface SentencePieceModel {
  pieces: SentencePiece[];
  modelType: SentencePieceModelType;
  normalizer: NormalizerSpec;
}

/** The bytes are not a SentencePiece model this code can use; names the file. */
export class SentencePieceModelError extends Error {
  override readonly name = 'SentencePieceModelError';
  readonly code = 'model_package';
}

/** Field numbers of sentencepiece_model.proto. */
const F = {
  model: { pieces: 1, trainerSpec: 2, normalizerSpec: 3 },
  piece: { piece: 1, score: 2, type: 3 },
  trainer: { modelType: 3 },
  normalizer: { name: 1, precompiledCharsmap: 2, addDummyPrefix: 3, removeExtraWhitespaces: 4 },
} as const;

/** Reads one length-delimited message, calling `field(number, wireType)` for each field (which must consume it). */
function readMessage(reader: protobuf.Reader, end: number, field: (num: number, wire: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    if (!field(tag >>> 3, tag & 7)) reader.skipType(tag & 7);
  }
}

/**
 * Parses a SentencePiece `ModelProto`.
 * @param bytes the `.spm` / `.model` file.
 * @param path the file's name, for errors.
 * @throws SentencePieceModelError for bytes that do not parse, a model with no pieces or no unknown piece.
 */
export function parseSentencePieceModel(bytes: Uint8Array, path = 'model'): SentencePieceModel {
  const pieces: SentencePiece[] = [];
  let modelType: SentencePieceModelType = 'unigram';
  const normalizer: NormalizerSpec = { name: 'nmt_nfkc', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true };
  try {
    const reader = protobuf.Reader.create(bytes);
    readMessage(reader, reader.len, (num, wire) => {
      if (wire !== 2) return false;
      const end = reader.uint32() + reader.pos;
      if (num === F.model.pieces) {
        const p: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL };
        readMessage(reader, end, (n) => {
          if (n === F.piece.piece) p.piece = reader.string();
          else if (n === F.piece.score) p.score = reader.float();
          else if (n === F.piece.type) p.type = reader.int32() as PieceTypeCode;
          else return false;
          return true;
        });
        pieces.push(p);
      } else if (num === F.model.trainerSpec) {
        readMessage(reader, end, (n) => {
          if (n !== F.trainer.modelType) return false;
          const code = reader.int32() as keyof typeof MODEL_TYPES;
          modelType = MODEL_TYPES[code] ?? modelType;
          return true;
        });
      } else if (num === F.model.normalizerSpec) {
        readMessage(reader, end, (n) => {
          if (n === F.normalizer.name) normalizer.name = reader.string();
          else if (n === F.normalizer.precompiledCharsmap) normalizer.precompiledCharsmap = new Uint8Array(reader.bytes());
          else if (n === F.normalizer.addDummyPrefix) normalizer.addDummyPrefix = reader.bool();
          else if (n === F.normalizer.removeExtraWhitespaces) normalizer.removeExtraWhitespaces = reader.bool();
          else return false;
          return true;
        });
      } else {
        reader.skip(end - reader.pos);
      }
      if (reader.pos !== end) throw new RangeError(`field ${num} overran its length`);
      return true;
    });
  } catch (error) {
    if (error instanceof SentencePieceModelError) throw error;
    throw new SentencePieceModelError(`${path}: not a SentencePiece model (${(error as Error).message})`);
  }
  if (pieces.length === 0) throw new SentencePieceModelError(`${path}: the SentencePiece model has no pieces`);
  if (!pieces.some((p) => p.type === PieceType.UNKNOWN)) throw new SentencePieceModelError(`${path}: the SentencePiece model has no unknown piece`);
  return { pieces, modelType, normalizer };
}

/**
 * Writes a `ModelProto` (pieces, `TrainerSpec.model_type`, `NormalizerSpec`), as `parseSentencePieceModel` reads
 * it; the fixture script writes its tiny models with it.
 */
export function encodeSentencePieceModel(model: SentencePieceModel): Uint8Array {
  const w = protobuf.Writer.create();
  for (const p of model.pieces) {
    w.uint32((F.model.pieces << 3) | 2).fork();
    w.uint32((F.piece.piece << 3) | 2).string(p.piece);
    w.uint32((F.piece.score << 3) | 5).float(p.score);
    if (p.type !== PieceType.NORMAL) w.uint32(F.piece.type << 3).int32(p.type);
    w.ldelim();
  }
  const modelCode = Number(Object.entries(MODEL_TYPES).find(([, name]) => name === model.modelType)![0]);
  w.uint32((F.model.trainerSpec << 3) | 2).fork().uint32(F.trainer.modelType << 3).int32(modelCode).ldelim();
  const n = model.normalizer;
  w.uint32((F.model.normalizerSpec << 3) | 2).fork();
  w.uint32((F.normalizer.name << 3) | 2).string(n.name);
  if (n.precompiledCharsmap.length) w.uint32((F.normalizer.precompiledCharsmap << 3) | 2).bytes(n.precompiledCharsmap);
  w.uint32(F.normalizer.addDummyPrefix << 3).bool(n.addDummyPrefix);
  w.uint32(F.normalizer.removeExtraWhitespaces << 3).bool(n.removeExtraWhitespaces);
  w.ldelim();
  return w.finish();
}

/** SentencePiece's whitespace symbol (U+2581). */
export const SPACE_SYMBOL = '\u2581';

/**
 * A Unigram tokenizer from a SentencePiece model, as transformers' `SpmConverter` builds one: the model's
 * normaliser (`nmt_nfkc` and `nfkc` as NFKC with SentencePiece's control and space rules, `@huggingface/tokenizers`'
 * `Precompiled`; `identity` as nothing), whitespace trimmed and collapsed when the spec says so, "▁" for spaces
 * and in front (`add_dummy_prefix`), then Viterbi segmentation over the pieces' scores. The unknown piece gets
 * the lowest score minus 10, as SentencePiece does.
 * @returns `tokenize(text)`: the pieces (strings; a character no piece covers comes out as itself, as SentencePiece's
 *   `encode(out_type=str)` gives it, and is not in the vocabulary).
 * @throws SentencePieceModelError for a model that is not Unigram.
 */
export function unigramTokenizer(model: SentencePieceModel, path = 'model'): { tokenize(text: string): string[] } {
  if (model.modelType !== 'unigram') throw new SentencePieceModelError(`${path}: a ${model.modelType} SentencePiece model; only unigram models are supported`);
  const { normalizer } = model;
  const unkId = model.pieces.findIndex((p) => p.type === PieceType.UNKNOWN);
  const normalizers: object[] = [];
  if (normalizer.name !== 'identity') normalizers.push({ type: 'Precompiled', precompiled_charsmap: null });
  if (normalizer.removeExtraWhitespaces) {
    normalizers.push({ type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' }, { type: 'Strip', strip_left: true, strip_right: true });
  }
  const tokenizer = new Tokenizer(
    {
      normalizer: normalizers.length ? { type: 'Sequence', normalizers } : null,
      pre_tokenizer: { type: 'Metaspace', replacement: SPACE_SYMBOL, prepend_scheme: normalizer.addDummyPrefix ? 'always' : 'never', split: true },
      model: { type: 'Unigram', unk_id: unkId, vocab: model.pieces.map((p) => [p.piece, p.score]) },
      decoder: { type: 'Metaspace', replacement: SPACE_SYMBOL, prepend_scheme: 'always', split: true },
      post_processor: null,
      added_tokens: model.pieces
        .map((p, id) => ({ p, id }))
        .filter(({ p }) => p.type === PieceType.CONTROL || p.type === PieceType.USER_DEFINED)
        .map(({ p, id }) => ({ id, content: p.piece, single_word: false, lstrip: false, rstrip: false, normalized: false, special: p.type === PieceType.CONTROL })),
    },
    {},
  );
  return {
    tokenize(text: string): string[] {
      return text.trim() ? tokenizer.tokenize(text) : [];
    },
  };
}
