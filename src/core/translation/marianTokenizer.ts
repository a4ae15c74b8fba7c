/**
 * transformers' `MarianTokenizer` (Helsinki-NLP opus-mt models, as an optimum export ships it): `source.spm`
 * segments the input, `vocab.json` gives the ids (one vocabulary shared by both languages), `target.spm`'s
 * conventions turn output pieces back into text. Files are read through a `FileStore`.
 */
import { readJson, type FileStore } from '../loading/fileStore.ts';
import { parseSentencePieceModel, SentencePieceModelError, SPACE_SYMBOL, unigramTokenizer } from './sentencepiece.ts';

/** The `tokenizer_config.json` keys the tokenizer reads (defaults as transformers' `MarianTokenizer`). */
export interface MarianTokenizerConfig {
  eos_token?: string;
  unk_token?: string;
  pad_token?: string;
  /** Longest input, tokens including `</s>` (512 for opus-mt). */
  model_max_length?: number;
  /** Separate source and target vocabularies (`target_vocab.json`): not supported. */
  separate_vocabs?: boolean;
}

/** What `encode` returns. */
export interface MarianEncoding {
  /** Piece ids, then the `</s>` id; at most `maxLength`. */
  inputIds: number[];
  /** Whether pieces were cut to fit `maxLength`. */
  truncated: boolean;
}

const DEFAULT_MAX_LENGTH = 512;

export class MarianTokenizer {
  readonly eosId: number;
  readonly unkId: number;
  readonly padId: number;
  readonly maxLength: number;
  private readonly source: { tokenize(text: string): string[] };
  private readonly tokens: string[] = [];
  private readonly special: Set<number>;

  /**
   * @param sourceSpm bytes of `source.spm`; @param vocab piece -> id (`vocab.json`).
   * @throws SentencePieceModelError when the SentencePiece model is unusable or the vocabulary lacks `</s>`,
   *   `<unk>` or `<pad>` (as named by `config`).
   */
  constructor(sourceSpm: Uint8Array, readonly vocab: Readonly<Record<string, number>>, config: MarianTokenizerConfig = {}) {
    if (config.separate_vocabs) throw new SentencePieceModelError('tokenizer_config.json: separate_vocabs (target_vocab.json) is not supported');
    this.source = unigramTokenizer(parseSentencePieceModel(sourceSpm, 'source.spm'), 'source.spm');
    const idOf = (token: string) => {
      const id = vocab[token];
      if (id === undefined) throw new SentencePieceModelError(`vocab.json has no "${token}" token`);
      return id;
    };
    this.eosId = idOf(config.eos_token ?? '</s>');
    this.unkId = idOf(config.unk_token ?? '<unk>');
    this.padId = idOf(config.pad_token ?? '<pad>');
    this.special = new Set([this.eosId, this.unkId, this.padId]);
    this.maxLength = config.model_max_length && config.model_max_length < 1e6 ? config.model_max_length : DEFAULT_MAX_LENGTH;
    for (const [token, id] of Object.entries(vocab)) this.tokens[id] = token;
  }

  /** Vocabulary size: the largest id plus one (the decoder's logits have this many columns). */
  get vocabSize(): number {
    return this.tokens.length;
  }

  /**
   * Ids of `text` for the encoder, as `MarianTokenizer(text)`: pieces of `source.spm`, each looked up in
   * `vocab.json` (`<unk>` when absent), then `</s>`; cut to `maxLength` (the `</s>` kept).
   */
  encode(text: string): MarianEncoding {
    const ids = this.source.tokenize(text).map((piece) => this.vocab[piece] ?? this.unkId);
    const room = this.maxLength - 1;
    return { inputIds: [...ids.slice(0, room), this.eosId], truncated: ids.length > room };
  }

  /**
   * Text of decoder output ids, as `MarianTokenizer.decode(ids, skip_special_tokens=True,
   * clean_up_tokenization_spaces=False)`: `</s>`, `<unk>` and
   * `<pad>` left out, pieces joined, "▁" as spaces, trimmed.
   */
  decode(ids: readonly number[]): string {
    return ids
      .filter((id) => !this.special.has(id))
      .map((id) => this.tokens[id] ?? '')
      .join('')
      .replaceAll(SPACE_SYMBOL, ' ')
      .trim();
  }
}

/**
 * Reads `source.spm`, `vocab.json` and `tokenizer_config.json` (optional) of a Marian package.
 * @throws ModelFileMissingError for a missing file; SentencePieceModelError for an unusable one.
 */
export async function loadMarianTokenizer(store: FileStore): Promise<MarianTokenizer> {
  const [spm, vocab, config] = await Promise.all([
    store.readBytes('source.spm'),
    readJson<Record<string, number>>(store, 'vocab.json'),
    store.exists('tokenizer_config.json').then((has) => (has ? readJson<MarianTokenizerConfig>(store, 'tokenizer_config.json') : {})),
  ]);
  return new MarianTokenizer(spm, vocab, config);
}
