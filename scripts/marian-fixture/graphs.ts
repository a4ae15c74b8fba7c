/**
 * Random-weight ONNX graphs of transformers' `MarianMTModel` (as Helsinki-NLP/opus-mt-ko-en), in the input/output
 * layout of an optimum `seq2seq-lm` export: `encoder_model.onnx`, `decoder_model.onnx`,
 * `decoder_with_past_model.onnx`. Numerics follow `modeling_marian.py`: shared scaled token embedding plus fixed
 * sinusoidal positions, post-norm layers (LayerNorm eps 1e-5), swish feed-forward, additive float32-min masks,
 * tied `lm_head` plus `final_logits_bias`. All three graphs take their tensors from `marianWeights(config, seed)`,
 * so the same seed gives byte-identical shared weights.
 */
import { silu } from '../sdxl-fixture/layers.ts';
import { OnnxGraph } from '../sdxl-fixture/onnxGraph.ts';
import { marianWeights, type MarianTensor } from './weights.ts';

/** The `config.json` keys of transformers' `MarianConfig` that shape the graphs. */
export interface MarianConfig {
  architectures: ['MarianMTModel'];
  model_type: 'marian';
  vocab_size: number;
  d_model: number;
  encoder_layers: number;
  decoder_layers: number;
  encoder_attention_heads: number;
  decoder_attention_heads: number;
  encoder_ffn_dim: number;
  decoder_ffn_dim: number;
  activation_function: 'swish';
  max_position_embeddings: number;
  scale_embedding: true;
  pad_token_id: number;
  eos_token_id: number;
  decoder_start_token_id: number;
  bos_token_id: number;
  share_encoder_decoder_embeddings: true;
  normalize_before: false;
  static_position_embeddings: true;
  torch_dtype: 'float32';
}

/**
 * A tiny Marian: d_model 32, 2 + 2 layers, 4 heads, ffn 64, 64 positions; special ids as opus-mt
 * (eos = bos = 0, unk 1, pad = decoder start = the last id).
 */
export function tinyMarianConfig(vocabSize: number): MarianConfig {
  return {
    architectures: ['MarianMTModel'],
    model_type: 'marian',
    vocab_size: vocabSize,
    d_model: 32,
    encoder_layers: 2,
    decoder_layers: 2,
    encoder_attention_heads: 4,
    decoder_attention_heads: 4,
    encoder_ffn_dim: 64,
    decoder_ffn_dim: 64,
    activation_function: 'swish',
    max_position_embeddings: 64,
    scale_embedding: true,
    pad_token_id: vocabSize - 1,
    eos_token_id: 0,
    decoder_start_token_id: vocabSize - 1,
    bos_token_id: 0,
    share_encoder_decoder_embeddings: true,
    normalize_before: false,
    static_position_embeddings: true,
    torch_dtype: 'float32',
  };
}

/** `torch.finfo(torch.float32).min`, the fill of masked attention scores. */
const FLOAT32_MIN = -3.4028234663852886e38;
const LAYER_NORM_EPS = 1e-5;

/** Adds each named tensor of the weight table to the graph once, on first use. */
class Weights {
  private readonly added = new Set<string>();
  constructor(private readonly g: OnnxGraph, private readonly table: Map<string, MarianTensor>) {}
  get(name: string): string {
    if (!this.added.has(name)) {
      const t = this.table.get(name);
      if (!t) throw new Error(`no Marian weight ${name}`);
      this.g.tensor(name, t.dims, 'float32', t.values);
      this.added.add(name);
    }
    return name;
  }
}

interface Ctx {
  g: OnnxGraph;
  w: Weights;
  config: MarianConfig;
}

/** Runs `body` with the last segment of the module path `path` as node-name scope. */
const scoped = <T>(g: OnnxGraph, path: string, body: () => T): T => g.within(path.split('.').slice(-1)[0]!, body);

const linear = ({ g, w }: Ctx, path: string, x: string) =>
  scoped(g, path, () => g.node('Add', [g.node('MatMul', [x, w.get(`${path}.weight`)]), w.get(`${path}.bias`)]));

const layerNorm = ({ g, w }: Ctx, path: string, x: string) =>
  scoped(g, path, () =>
    g.node('LayerNormalization', [x, w.get(`${path}.weight`), w.get(`${path}.bias`)], { axis: -1, epsilon: { float: LAYER_NORM_EPS } }),
  );

/** Dimension `axis` of `x` as an int64 scalar. */
const dimOf = (g: OnnxGraph, x: string, axis: number) => g.node('Gather', [g.node('Shape', [x]), g.const([axis], 'int64', [])], { axis: 0 });

/** `_prepare_4d_attention_mask`: int64 `[B, S]` (1 = keep) to additive float32 `[B, 1, 1, S]`, min where mask != 1. */
function paddingMask(g: OnnxGraph, mask: string): string {
  const keep = g.node('Equal', [mask, g.const([1], 'int64', [])]);
  return g.node('Unsqueeze', [g.node('Where', [keep, g.floatConst([0]), g.floatConst([FLOAT32_MIN])]), g.const([1, 2])]);
}

/** `scale_embedding` token embedding (shared table) plus the sinusoidal rows at `positions` (int64 `[N]`): `[B, N, D]`. */
function embed(c: Ctx, side: 'encoder' | 'decoder', ids: string, positions: string): string {
  const { g, w, config } = c;
  const tokens = g.node('Mul', [g.node('Gather', [w.get('model.shared.weight'), ids], { axis: 0 }), g.floatConst([Math.sqrt(config.d_model)])]);
  const pos = g.node('Gather', [w.get(`model.${side}.embed_positions.weight`), positions], { axis: 0 });
  return g.node('Add', [tokens, pos]);
}

interface AttentionOut {
  out: string;
  /** Keys and values `[B, heads, T, head_dim]` the queries attended to (the `present` cache). */
  key: string;
  value: string;
}

/**
 * `MarianAttention` (eager, transformers < 4.48 form: `q_proj(x) * head_dim**-0.5`): keys/values from
 * `source` (self-attention: `x`; cross-attention: encoder states), or taken whole from `cached` (cross-attention
 * with past), with `past` keys/values concatenated in front along axis 2 (self-attention with past).
 * `mask` is additive, broadcast to `[B, heads, N, T]`.
 */
function attention(c: Ctx, path: string, x: string, heads: number, o: { source?: string; cached?: [string, string]; past?: [string, string]; mask: string }): AttentionOut {
  const { g, config } = c;
  const headDim = config.d_model / heads;
  return scoped(g, path, () => {
    const split = (t: string) => g.node('Transpose', [g.node('Reshape', [t, g.const([0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
    const q = split(g.node('Mul', [linear(c, `${path}.q_proj`, x), g.floatConst([headDim ** -0.5])]));
    let key: string;
    let value: string;
    if (o.cached) [key, value] = o.cached;
    else {
      key = split(linear(c, `${path}.k_proj`, o.source ?? x));
      value = split(linear(c, `${path}.v_proj`, o.source ?? x));
      if (o.past) {
        key = g.node('Concat', [o.past[0], key], { axis: 2 });
        value = g.node('Concat', [o.past[1], value], { axis: 2 });
      }
    }
    const scores = g.node('Add', [g.node('MatMul', [q, g.node('Transpose', [key], { perm: [0, 1, 3, 2] })]), o.mask]);
    const probs = g.node('Softmax', [scores], { axis: -1 });
    const merged = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, value])], { perm: [0, 2, 1, 3] }), g.const([0, 0, config.d_model])]);
    return { out: linear(c, `${path}.out_proj`, merged), key, value };
  });
}

/** `fc2(swish(fc1(x)))`. */
const feedForward = (c: Ctx, path: string, x: string) => linear(c, `${path}.fc2`, silu(c.g, linear(c, `${path}.fc1`, x)));

/**
 * `encoder_model.onnx` (`MarianEncoder`).
 * Inputs: `input_ids` int64 `[batch_size, encoder_sequence_length]`, `attention_mask` int64 (same shape, 1 = token).
 * Output: `last_hidden_state` float32 `[batch_size, encoder_sequence_length, d_model]`.
 */
export function buildMarianEncoder(config: MarianConfig, seed: number): OnnxGraph {
  const g = new OnnxGraph('encoder_model', { seed });
  const c: Ctx = { g, w: new Weights(g, marianWeights(config, seed)), config };
  const ids = g.input('input_ids', 'int64', ['batch_size', 'encoder_sequence_length']);
  const mask = paddingMask(g, g.input('attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']));
  const positions = g.node('Range', [g.const([0], 'int64', []), dimOf(g, ids, 1), g.const([1], 'int64', [])]);
  let h = embed(c, 'encoder', ids, positions);
  for (let i = 0; i < config.encoder_layers; i++) {
    const p = `model.encoder.layers.${i}`;
    h = g.within(`layers.${i}`, () => {
      const attn = attention(c, `${p}.self_attn`, h, config.encoder_attention_heads, { mask }).out;
      const h1 = layerNorm(c, `${p}.self_attn_layer_norm`, g.node('Add', [h, attn]));
      return layerNorm(c, `${p}.final_layer_norm`, g.node('Add', [h1, feedForward(c, p, h1)]));
    });
  }
  g.output(h, 'last_hidden_state', 'float32', ['batch_size', 'encoder_sequence_length', config.d_model]);
  return g;
}

/**
 * `decoder_model.onnx` (`withPast` false) or `decoder_with_past_model.onnx` (`MarianDecoder` + tied `lm_head` +
 * `final_logits_bias`). Dimension names as optimum's (`past_decoder_sequence_length + 1` even when several new
 * tokens are fed; optimum's own with-past export fixes `input_ids` to one token, this graph takes any number).
 * Inputs: `encoder_attention_mask` int64 `[batch_size, encoder_sequence_length]`, `input_ids` int64
 * `[batch_size, decoder_sequence_length]`, then without past `encoder_hidden_states` float32
 * `[batch_size, encoder_sequence_length, d_model]`, or with past, per layer i, `past_key_values.{i}.decoder.key`/`.value`
 * `[batch_size, heads, past_decoder_sequence_length, head_dim]` and `past_key_values.{i}.encoder.key`/`.value`
 * `[batch_size, heads, encoder_sequence_length_out, head_dim]` (cross-attention k/v projections are then unused and
 * absent, as in an optimum export). New tokens sit at positions past .. past + N - 1; token j sees keys 0 .. past + j.
 * Outputs: `logits` float32 `[batch_size, decoder_sequence_length, vocab_size]`, then per layer
 * `present.{i}.decoder.key`/`.value` (past + new), and without past also `present.{i}.encoder.key`/`.value`.
 */
export function buildMarianDecoder(config: MarianConfig, seed: number, withPast: boolean): OnnxGraph {
  const g = new OnnxGraph(withPast ? 'decoder_with_past_model' : 'decoder_model', { seed });
  const c: Ctx = { g, w: new Weights(g, marianWeights(config, seed)), config };
  const heads = config.decoder_attention_heads;
  const headDim = config.d_model / heads;
  const encoderMask = paddingMask(g, g.input('encoder_attention_mask', 'int64', ['batch_size', 'encoder_sequence_length']));
  const ids = g.input('input_ids', 'int64', ['batch_size', 'decoder_sequence_length']);
  const cacheDims = (len: string) => ['batch_size', heads, len, headDim];
  let encoderStates = '';
  const past: { decoder: [string, string]; encoder: [string, string] }[] = [];
  if (!withPast) encoderStates = g.input('encoder_hidden_states', 'float32', ['batch_size', 'encoder_sequence_length', config.d_model]);
  else
    for (let i = 0; i < config.decoder_layers; i++) {
      const kv = (side: string, len: string) =>
        ['key', 'value'].map((t) => g.input(`past_key_values.${i}.${side}.${t}`, 'float32', cacheDims(len))) as [string, string];
      past.push({ decoder: kv('decoder', 'past_decoder_sequence_length'), encoder: kv('encoder', 'encoder_sequence_length_out') });
    }

  // positions past .. past + N - 1; causal mask [N, past + N]: min where key position > query position
  const pastLen = withPast ? dimOf(g, past[0]!.decoder[0], 2) : g.const([0], 'int64', []);
  const total = g.node('Add', [pastLen, dimOf(g, ids, 1)]);
  const one = g.const([1], 'int64', []);
  const positions = g.node('Range', [pastLen, total, one]);
  const keyPositions = g.node('Range', [g.const([0], 'int64', []), total, one]);
  const future = g.node('Greater', [g.node('Unsqueeze', [keyPositions, g.const([0])]), g.node('Unsqueeze', [positions, g.const([1])])]);
  const causalMask = g.node('Where', [future, g.floatConst([FLOAT32_MIN]), g.floatConst([0])]);

  let h = embed(c, 'decoder', ids, positions);
  const presents: [string, string, AttentionOut][] = [];
  for (let i = 0; i < config.decoder_layers; i++) {
    const p = `model.decoder.layers.${i}`;
    h = g.within(`layers.${i}`, () => {
      const self = attention(c, `${p}.self_attn`, h, heads, { mask: causalMask, past: past[i]?.decoder });
      const h1 = layerNorm(c, `${p}.self_attn_layer_norm`, g.node('Add', [h, self.out]));
      const cross = attention(c, `${p}.encoder_attn`, h1, heads, { mask: encoderMask, source: encoderStates, cached: past[i]?.encoder });
      const h2 = layerNorm(c, `${p}.encoder_attn_layer_norm`, g.node('Add', [h1, cross.out]));
      presents.push([self.key, self.value, cross]);
      return layerNorm(c, `${p}.final_layer_norm`, g.node('Add', [h2, feedForward(c, p, h2)]));
    });
  }
  const lmHead = g.node('Transpose', [c.w.get('model.shared.weight')], { perm: [1, 0] });
  const logits = g.node('Add', [g.node('MatMul', [h, lmHead]), c.w.get('final_logits_bias')]);
  g.output(logits, 'logits', 'float32', ['batch_size', 'decoder_sequence_length', config.vocab_size]);
  const selfLen = withPast ? 'past_decoder_sequence_length + 1' : 'decoder_sequence_length';
  presents.forEach(([key, value, cross], i) => {
    g.output(key, `present.${i}.decoder.key`, 'float32', cacheDims(selfLen));
    g.output(value, `present.${i}.decoder.value`, 'float32', cacheDims(selfLen));
    if (withPast) return;
    g.output(cross.key, `present.${i}.encoder.key`, 'float32', cacheDims('encoder_sequence_length_out'));
    g.output(cross.value, `present.${i}.encoder.value`, 'float32', cacheDims('encoder_sequence_length_out'));
  });
  return g;
}
