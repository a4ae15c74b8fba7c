/**
 * A Marian translation model (Helsinki-NLP opus-mt, e.g. opus-mt-ko-en) exported to ONNX by optimum, run
 * through the host's `OnnxRuntime` (onnxruntime-web in the worker, onnxruntime-node on the server): the encoder
 * once, then the decoder token by token, greedily, reusing its key/value cache when the export has one.
 *
 * Package layouts read (first found wins): optimum's `encoder_model.onnx` with `decoder_model.onnx` +
 * `decoder_with_past_model.onnx`, else `decoder_model_merged.onnx`, else `decoder_model.onnx` alone (no cache), at the root, or the same under `onnx/` (the
 * transformers.js layout, where `*_quantized.onnx` is used when it is the only file); `config.json`,
 * `generation_config.json` (optional), `source.spm`, `vocab.json`, `tokenizer_config.json` (optional).
 */
import { GenerationCancelledError, type CancelSignal } from '../types.ts';
import { readJson, type FileStore } from '../loading/fileStore.ts';
import { ModelPackageError } from '../loading/modelPackage.ts';
import { asFloat32, intTensor, type Tensor, type TensorType } from '../tensor.ts';
import type { OnnxRuntime, OnnxSession } from '../runtime.ts';
import { loadMarianTokenizer, type MarianTokenizer } from './marianTokenizer.ts';

/** The `config.json` keys the decoding loop reads (transformers `MarianConfig`). */
export interface MarianModelConfig {
  model_type: string;
  vocab_size: number;
  d_model: number;
  decoder_layers: number;
  decoder_attention_heads: number;
  decoder_start_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  max_position_embeddings?: number;
}

/** The `generation_config.json` keys the loop honours (others, such as `num_beams`, are not used: decoding is greedy). */
export interface MarianGenerationConfig {
  max_length?: number;
  decoder_start_token_id?: number;
  eos_token_id?: number;
  /** Ids never generated (opus-mt: `[[pad]]`). Only single-id entries are applied. */
  bad_words_ids?: number[][];
}

/** What `translate` returns. */
export interface MarianTranslation {
  text: string;
  /** Encoder tokens, `</s>` included. */
  inputTokens: number;
  /** Generated tokens, the final `</s>` excluded. */
  outputTokens: number;
  /** The input was cut to the tokenizer's `maxLength`, or the output stopped at `maxNewTokens` before `</s>`. */
  truncated: boolean;
  /** Milliseconds inside the encoder and decoder session runs. */
  runMs: number;
}

export interface TranslateOptions {
  /**
   * Most tokens to generate (default `DEFAULT_MAX_NEW_TOKENS`), never past `generation_config.max_length - 1` nor
   * `config.max_position_embeddings - 1`.
   */
  maxNewTokens?: number;
  /** Checked before every decoder step. */
  signal?: CancelSignal;
  /** Monotonic clock, milliseconds (default `Date.now`). */
  now?: () => number;
}

/** A prompt is at most 75 CLIP tokens of English; a runaway output stops here. */
export const DEFAULT_MAX_NEW_TOKENS = 96;

/** The optimum export's ONNX files found in a package. */
interface MarianFiles {
  encoder: string;
  /** `decoder_model.onnx` or `decoder_model_merged.onnx` (takes `use_cache_branch`). */
  decoder: string;
  decoderWithPast?: string;
}

async function findFiles(store: FileStore): Promise<MarianFiles> {
  for (const dir of ['', 'onnx/']) {
    for (const suffix of ['', '_quantized']) {
      const path = (name: string) => `${dir}${name}${suffix}.onnx`;
      if (!(await store.exists(path('encoder_model')))) continue;
      const withPast = path('decoder_with_past_model');
      if ((await store.exists(path('decoder_model'))) && (await store.exists(withPast))) return { encoder: path('encoder_model'), decoder: path('decoder_model'), decoderWithPast: withPast };
      if (await store.exists(path('decoder_model_merged'))) return { encoder: path('encoder_model'), decoder: path('decoder_model_merged') };
      if (await store.exists(path('decoder_model'))) return { encoder: path('encoder_model'), decoder: path('decoder_model') };
    }
  }
  throw new ModelPackageError('no encoder_model.onnx with decoder_model.onnx or decoder_model_merged.onnx (at the root or under onnx/)');
}

async function openSession(runtime: OnnxRuntime, store: FileStore, modelPath: string): Promise<OnnxSession> {
  const externalData = (await store.exists(`${modelPath}_data`)) ? [`${modelPath}_data`] : [];
  return runtime.createSession({ component: `translation/${modelPath}`, modelPath, externalData, store });
}

const PAST_PREFIX = 'past_key_values.';
const PRESENT_PREFIX = 'present.';

/** The integer type a session takes for `name`. */
function idType(session: OnnxSession, name: string): TensorType {
  const type = session.inputs.find((i) => i.name === name)?.type;
  return type === 'int32' ? 'int32' : 'int64';
}

/** Index of the largest value of row `row` of `[1, rows, cols]` logits, with `banned` ids skipped. */
function argmaxRow(logits: Tensor, banned: ReadonlySet<number>): number {
  const f = asFloat32(logits);
  const cols = f.dims.at(-1)!;
  const rows = f.dims.at(-2)!;
  const start = (rows - 1) * cols;
  let best = -1;
  for (let j = 0; j < cols; j++) {
    if (banned.has(j)) continue;
    if (best < 0 || f.data[start + j]! > f.data[start + best]!) best = j;
  }
  return best;
}

export class MarianTranslator {
  private constructor(
    readonly id: string,
    readonly tokenizer: MarianTokenizer,
    private readonly config: MarianModelConfig,
    private readonly generation: MarianGenerationConfig,
    private readonly encoder: OnnxSession,
    private readonly decoder: OnnxSession,
    private readonly decoderWithPast: OnnxSession | undefined,
  ) {}

  /**
   * Loads a Marian package: tokenizer files, configs and the encoder and decoder sessions.
   * @param id the package's name, reported with each translation (e.g. `opus-mt-ko-en`).
   * @throws ModelPackageError when `config.json` is not a Marian model or the ONNX files are missing;
   *   ModelFileMissingError / SentencePieceModelError for tokenizer files; the runtime's errors for sessions.
   */
  static async load(store: FileStore, runtime: OnnxRuntime, id: string): Promise<MarianTranslator> {
    const config = await readJson<MarianModelConfig>(store, 'config.json');
    if (config.model_type !== 'marian') throw new ModelPackageError(`config.json: model_type "${config.model_type}" is not a Marian translation model ("marian")`);
    const generation = (await store.exists('generation_config.json')) ? await readJson<MarianGenerationConfig>(store, 'generation_config.json') : {};
    const [tokenizer, files] = await Promise.all([loadMarianTokenizer(store), findFiles(store)]);
    const encoder = await openSession(runtime, store, files.encoder);
    const decoder = await openSession(runtime, store, files.decoder);
    const decoderWithPast = files.decoderWithPast ? await openSession(runtime, store, files.decoderWithPast) : undefined;
    return new MarianTranslator(id, tokenizer, config, generation, encoder, decoder, decoderWithPast);
  }

  /** Whether decoding reuses keys and values (`decoder_with_past_model.onnx` or a merged decoder). */
  get cached(): boolean {
    return this.decoderWithPast !== undefined || this.decoder.inputs.some((i) => i.name === 'use_cache_branch');
  }

  /**
   * Translates `text` greedily (`num_beams=1`, as transformers' `generate(do_sample=False, num_beams=1)`):
   * encoder ids from the tokenizer, the decoder started from `decoder_start_token_id`, each next token the
   * argmax of the last position's logits (`bad_words_ids` excluded) until `eos_token_id` or `maxNewTokens`.
   * Tensors: `input_ids`/`attention_mask` int64 (or the export's int32) `[1, n]`; `last_hidden_state`
   * `[1, n, d_model]`; `logits` `[1, m, vocab_size]`; cache `[1, heads, length, d_model / heads]`.
   * @throws GenerationCancelledError when `signal` aborts; the runtime's errors.
   */
  async translate(text: string, options: TranslateOptions = {}): Promise<MarianTranslation> {
    const now = options.now ?? Date.now;
    let runMs = 0;
    const run = async (session: OnnxSession, feeds: Record<string, Tensor>, outputs?: readonly string[]) => {
      const started = now();
      try {
        return await session.run(feeds, outputs);
      } finally {
        runMs += now() - started;
      }
    };
    const { inputIds, truncated: inputCut } = this.tokenizer.encode(text);
    const n = inputIds.length;
    const mask = (session: OnnxSession, name: string) => intTensor(new Array(n).fill(1), [1, n], idType(session, name));
    const encoded = await run(this.encoder, { input_ids: intTensor(inputIds, [1, n], idType(this.encoder, 'input_ids')), attention_mask: mask(this.encoder, 'attention_mask') });
    const hidden = encoded['last_hidden_state'];
    if (!hidden) throw new ModelPackageError('encoder_model.onnx has no last_hidden_state output');

    const g = this.generation;
    const start = g.decoder_start_token_id ?? this.config.decoder_start_token_id;
    const eos = g.eos_token_id ?? this.config.eos_token_id;
    const banned = new Set((g.bad_words_ids ?? []).filter((ids) => ids.length === 1).map((ids) => ids[0]!));
    // the decoder's positions run to the output's length: never past max_position_embeddings - 1
    const limit = Math.min(options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS, (g.max_length ?? Infinity) - 1, (this.config.max_position_embeddings ?? Infinity) - 1);

    const merged = this.decoder.inputs.some((i) => i.name === 'use_cache_branch');
    const headDim = this.config.d_model / this.config.decoder_attention_heads;
    const past = new Map<string, Tensor>();
    const output: number[] = [start];
    let ended = false;
    while (output.length - 1 < limit) {
      if (options.signal?.aborted) throw new GenerationCancelledError();
      const first = output.length === 1;
      const session = !first && this.decoderWithPast ? this.decoderWithPast : this.decoder;
      const useCache = !first && (merged || this.decoderWithPast !== undefined);
      const ids = useCache ? [output.at(-1)!] : output;
      const feeds: Record<string, Tensor> = {};
      for (const input of session.inputs) {
        const name = input.name;
        if (name === 'input_ids') feeds[name] = intTensor(ids, [1, ids.length], idType(session, name));
        else if (name === 'encoder_attention_mask') feeds[name] = mask(session, name);
        else if (name === 'encoder_hidden_states') feeds[name] = hidden;
        else if (name === 'use_cache_branch') feeds[name] = { type: 'bool', data: Uint8Array.of(useCache ? 1 : 0), dims: [1] };
        else if (name.startsWith(PAST_PREFIX)) {
          const kept = useCache ? past.get(name.slice(PAST_PREFIX.length)) : undefined;
          feeds[name] = kept ?? emptyPast(input.type, headDim, this.config.decoder_attention_heads);
        }
      }
      const wanted = this.cached ? session.outputs.map((o) => o.name) : ['logits'];
      const result = await run(session, feeds, wanted);
      for (const [name, value] of Object.entries(result)) {
        if (!name.startsWith(PRESENT_PREFIX)) continue;
        const key = name.slice(PRESENT_PREFIX.length);
        // cross-attention keys and values are computed on the first step only
        if (key.includes('.encoder.') && past.has(key) && !first) continue;
        past.set(key, value);
      }
      const next = argmaxRow(result['logits']!, banned);
      if (next === eos) {
        ended = true;
        break;
      }
      output.push(next);
    }
    const generated = output.slice(1);
    return { text: this.tokenizer.decode(generated), inputTokens: n, outputTokens: generated.length, truncated: inputCut || !ended, runMs };
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release(), this.decoderWithPast?.release()]);
  }
}

/** A zero-length cache entry `[1, heads, 0, headDim]` for a merged decoder's first step. */
function emptyPast(type: string, headDim: number, heads: number): Tensor {
  if (type === 'float16') return { type: 'float16', data: new Uint16Array(0), dims: [1, heads, 0, headDim] };
  return { type: 'float32', data: new Float32Array(0), dims: [1, heads, 0, headDim] };
}
