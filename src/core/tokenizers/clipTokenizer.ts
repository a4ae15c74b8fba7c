import { Tokenizer } from '@huggingface/tokenizers';

/**
 * CLIP's pre-tokenizer pattern (openai/CLIP `simple_tokenizer.py`, as in Hugging Face's `CLIPTokenizer`):
 * contractions, runs of letters, single digits, runs of other non-space characters.
 */
const CLIP_PATTERN = String.raw`'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`;

export const BOS_TOKEN = '<|startoftext|>';
export const EOS_TOKEN = '<|endoftext|>';

/** CJK Unified Ideographs and extensions, which BERT's basic tokenizer surrounds with spaces. */
const CJK = [[0x4e00, 0x9fff], [0x3400, 0x4dbf], [0x20000, 0x2a6df], [0x2a700, 0x2b73f], [0x2b740, 0x2b81f], [0x2b820, 0x2ceaf], [0xf900, 0xfaff], [0x2f800, 0x2fa1f]] as const;

/**
 * The text clean-up of Hugging Face's slow `CLIPTokenizer` when ftfy is not installed (transformers
 * `BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False)`): drop NUL, U+FFFD and
 * control / format characters (Unicode category C, so zero-width joiners too), turn whitespace into spaces,
 * space out CJK ideographs, NFC, split on whitespace, lower-case each word, join with single spaces.
 */
export function basicClean(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || (ch !== '\t' && ch !== '\n' && ch !== '\r' && /\p{C}/u.test(ch))) continue;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || /\p{Zs}/u.test(ch)) out += ' ';
    else if (CJK.some(([lo, hi]) => cp >= lo && cp <= hi)) out += ` ${ch} `;
    else out += ch;
  }
  return out
    .normalize('NFC')
    .split(/\s+/u)
    .filter(Boolean)
    .map((word) => word.toLowerCase())
    .join(' ');
}

/** What `encode` returns for one prompt. */
export interface ClipEncoding {
  /** Exactly `maxLength` ids: bos, tokens, eos, then the pad id. */
  inputIds: number[];
  /** Prompt tokens kept (without bos/eos/pad). */
  tokenCount: number;
  /** The text that did not fit in `maxLength - 2` tokens, decoded; empty when nothing was cut. */
  truncatedText: string;
}

/** Options read from `tokenizer_config.json` / `special_tokens_map.json`. */
export interface ClipTokenizerOptions {
  /** The padding token: `<|endoftext|>` for SDXL's first tokenizer, `!` for tokenizer_2. */
  padToken: string;
  /** Sequence length including bos and eos: 77 for CLIP. */
  maxLength: number;
}

/** Thrown when tokenizer files are malformed; names the file. */
export class TokenizerFileError extends Error {
  override readonly name = 'TokenizerFileError';
  readonly code = 'model_package';
}

/**
 * A CLIP BPE tokenizer built from `vocab.json` + `merges.txt` that gives the ids of Hugging Face's
 * `CLIPTokenizer` (the slow one diffusers uses): the `basicClean` text clean-up, then the pipeline of
 * transformers' `CLIPConverter` (NFC, whitespace runs to one space, lower case; the CLIP split pattern and
 * byte-level alphabet; BPE with the `</w>` end-of-word suffix; `<|startoftext|>` and `<|endoftext|>` kept as
 * special tokens when typed). Tokenisation itself runs in `@huggingface/tokenizers` (the transformers.js
 * tokenizer package). Checked id for id against a Python transcription of the slow tokenizer on the real
 * CLIP merges.
 */
export class ClipTokenizer {
  private readonly tokenizer: Tokenizer;
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;

  /**
   * @param vocab token -> id, as in `vocab.json`.
   * @param merges merge rules in priority order, each "a b", as in `merges.txt` without its `#version` line.
   * @throws TokenizerFileError when bos, eos or the pad token is missing from the vocabulary.
   */
  constructor(vocab: Record<string, number>, merges: readonly string[], readonly options: ClipTokenizerOptions) {
    const idOf = (token: string): number => {
      const id = vocab[token];
      if (id === undefined) throw new TokenizerFileError(`vocab.json has no "${token}" token`);
      return id;
    };
    this.bosId = idOf(BOS_TOKEN);
    this.eosId = idOf(EOS_TOKEN);
    this.padId = idOf(options.padToken);
    const special = (content: string, id: number) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    });
    this.tokenizer = new Tokenizer(
      {
        version: '1.0',
        added_tokens: [special(BOS_TOKEN, this.bosId), special(EOS_TOKEN, this.eosId)],
        normalizer: {
          type: 'Sequence',
          normalizers: [{ type: 'NFC' }, { type: 'Replace', pattern: { Regex: String.raw`\s+` }, content: ' ' }, { type: 'Lowercase' }],
        },
        pre_tokenizer: {
          type: 'Sequence',
          pretokenizers: [
            { type: 'Split', pattern: { Regex: CLIP_PATTERN }, behavior: 'Removed', invert: true },
            { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
          ],
        },
        post_processor: null,
        decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
        model: {
          type: 'BPE',
          dropout: null,
          unk_token: EOS_TOKEN,
          continuing_subword_prefix: '',
          end_of_word_suffix: '</w>',
          fuse_unk: false,
          byte_fallback: false,
          vocab,
          merges: [...merges],
        },
      },
      { model_max_length: options.maxLength, clean_up_tokenization_spaces: true },
    );
  }

  /**
   * Tokenises `text` as `tokenizer(text, padding="max_length", max_length=77, truncation=True)`:
   * bos + at most `maxLength - 2` tokens + eos, padded with `padToken`.
   */
  encode(text: string): ClipEncoding {
    const ids = this.tokenizer.encode(basicClean(text), { add_special_tokens: false }).ids;
    const room = this.options.maxLength - 2;
    const kept = ids.slice(0, room);
    const cut = ids.slice(room);
    const inputIds = [this.bosId, ...kept, this.eosId];
    while (inputIds.length < this.options.maxLength) inputIds.push(this.padId);
    return {
      inputIds,
      tokenCount: kept.length,
      truncatedText: cut.length ? this.cutText(ids, room) : '',
    };
  }

  /**
   * The text of `ids` from token `from` on. Byte-level BPE can cut a character in half (Hangul is 3 UTF-8 bytes,
   * often split over tokens): the cut then starts with U+FFFD, so it is widened to the whole character, at most
   * 3 tokens back (UTF-8's longest character is 4 bytes).
   */
  private cutText(ids: number[], from: number): string {
    const decode = (start: number) => this.tokenizer.decode(ids.slice(start), { skip_special_tokens: true }).trim();
    let start = from;
    let text = decode(start);
    while (text.startsWith('\uFFFD') && start > 0 && from - start < 3) text = decode(--start);
    return text;
  }
}

/**
 * Parses `merges.txt`: drops the `#version` header and blank lines.
 * @throws TokenizerFileError when a line is not two space-separated symbols.
 */
export function parseMerges(text: string): string[] {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const merges = lines.filter((l, i) => l.length > 0 && !(i === 0 && l.includes('#version')));
  for (const m of merges) {
    if (m.split(' ').length !== 2) throw new TokenizerFileError(`merges.txt: malformed line "${m}"`);
  }
  return merges;
}

/**
 * Reads the pad token and max length from `tokenizer_config.json` or `special_tokens_map.json` contents
 * (`pad_token` may be a string or `{ content }`; CLIP's `model_max_length` is 77).
 */
export function tokenizerOptions(config: Record<string, unknown>): ClipTokenizerOptions {
  const pad = config['pad_token'];
  const padToken = typeof pad === 'string' ? pad : typeof pad === 'object' && pad && 'content' in pad ? String(pad.content) : EOS_TOKEN;
  const max = config['model_max_length'];
  const maxLength = typeof max === 'number' && max > 2 && max <= 1024 ? max : 77;
  return { padToken, maxLength };
}
