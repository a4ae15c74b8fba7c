/**
 * CLIP text encoders in the layout of transformers' `CLIPTextModel` (SDXL `text_encoder`, outputs
 * `last_hidden_state`, `pooler_output`, `hidden_states.N`) and `CLIPTextModelWithProjection`
 * (`text_encoder_2`, outputs `text_embeds`, `last_hidden_state`, `hidden_states.N`), as optimum exports them.
 */
import { attention, gelu, layerNorm, linear, quickGelu } from './layers.ts';
import { OnnxGraph, type GraphOptions } from './onnxGraph.ts';

/** The `config.json` keys of transformers' `CLIPTextConfig` that shape the graph. */
export interface ClipTextConfig {
  architectures: string[];
  model_type: 'clip_text_model';
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  max_position_embeddings: number;
  hidden_act: 'quick_gelu' | 'gelu';
  layer_norm_eps: number;
  projection_dim: number;
  bos_token_id: number;
  eos_token_id: number;
  pad_token_id: number;
  torch_dtype: 'float32' | 'float16';
}

/** Most negative finite value of each float type (`torch.finfo(dtype).min`, the causal mask's fill). */
const FINFO_MIN = { float32: -3.4028234663852886e38, float16: -65504 } as const;

/**
 * Builds the encoder graph; `withProjection` adds `text_projection` and the `text_embeds` output.
 * @param ids element type of `input_ids` (int64 in optimum exports, int32 in diffusers' own ONNX script).
 */
export function buildClipTextModel(config: ClipTextConfig, withProjection: boolean, options: GraphOptions & { ids?: 'int32' | 'int64' }): OnnxGraph {
  const g = new OnnxGraph(withProjection ? 'text_encoder_2' : 'text_encoder', options);
  const D = config.hidden_size;
  const ids = g.input('input_ids', options.ids ?? 'int64', ['batch_size', 'sequence_length']);
  const idsShape = g.node('Shape', [ids]);
  const seqLen = g.node('Slice', [idsShape, g.const([1]), g.const([2]), g.const([0])]);

  // embeddings: token + position (positions 0 .. sequence_length - 1)
  let h = g.within('text_model', () =>
    g.within('embeddings', () => {
      const tokens = g.within('token_embedding', () => g.node('Gather', [g.param('weight', [config.vocab_size, D], 0.02), ids], { axis: 0 }));
      const table = g.within('position_embedding', () => g.param('weight', [config.max_position_embeddings, D], 0.01));
      const positions = g.node('Slice', [table, g.const([0]), seqLen, g.const([0])]);
      return g.node('Add', [tokens, positions]);
    }),
  );
  const hiddenStates = [h];

  // causal mask [S, S]: large negative above the diagonal (transformers `_create_4d_causal_attention_mask`)
  const range = g.node('Range', [g.const([0], 'int64', []), g.node('Squeeze', [seqLen, g.const([0])]), g.const([1], 'int64', [])]);
  const future = g.node('Greater', [g.node('Unsqueeze', [range, g.const([0])]), g.node('Unsqueeze', [range, g.const([1])])]);
  const mask = g.node('Where', [future, g.floatConst([FINFO_MIN[g.float]]), g.floatConst([0])]);

  g.within('text_model', () =>
    g.within('encoder', () => {
      for (let i = 0; i < config.num_hidden_layers; i++) {
        h = g.within(`layers.${i}`, () => {
          const normed = g.within('layer_norm1', () => layerNorm(g, h, D, config.layer_norm_eps));
          const attn = g.within('self_attn', () =>
            attention(g, normed, D, config.num_attention_heads, { qkvBias: true, mask, names: ['q_proj', 'k_proj', 'v_proj', 'out_proj'] }),
          );
          const residual = g.node('Add', [h, attn]);
          const normed2 = g.within('layer_norm2', () => layerNorm(g, residual, D, config.layer_norm_eps));
          const mlp = g.within('mlp', () => {
            const up = g.within('fc1', () => linear(g, normed2, D, config.intermediate_size));
            const act = config.hidden_act === 'gelu' ? gelu(g, up) : quickGelu(g, up);
            return g.within('fc2', () => linear(g, act, config.intermediate_size, D));
          });
          return g.node('Add', [residual, mlp]);
        });
        hiddenStates.push(h);
      }
    }),
  );
  const last = g.within('text_model', () => g.within('final_layer_norm', () => layerNorm(g, h, D, config.layer_norm_eps)));

  // pooled output: the hidden state at the end token, found as argmax of the ids (legacy eos_token_id == 2 path)
  const eosIndex = g.node('ArgMax', [options.ids === 'int32' ? ids : g.node('Cast', [ids], { to: 6 })], { axis: -1, keepdims: 0 });
  const batch = g.node('Squeeze', [g.node('Slice', [idsShape, g.const([0]), g.const([1]), g.const([0])]), g.const([0])]);
  const rowStart = g.node('Mul', [g.node('Range', [g.const([0], 'int64', []), batch, g.const([1], 'int64', [])]), g.node('Squeeze', [seqLen, g.const([0])])]);
  const flat = g.node('Reshape', [last, g.const([-1, D])]);
  const pooled = g.node('Gather', [flat, g.node('Add', [rowStart, eosIndex])], { axis: 0 });

  const seqDims = ['batch_size', 'sequence_length', D] as const;
  if (withProjection) {
    const textEmbeds = g.within('text_projection', () => linear(g, pooled, D, config.projection_dim, false));
    g.output(textEmbeds, 'text_embeds', g.float, ['batch_size', config.projection_dim]);
    g.output(last, 'last_hidden_state', g.float, seqDims);
  } else {
    g.output(last, 'last_hidden_state', g.float, seqDims);
    g.output(pooled, 'pooler_output', g.float, ['batch_size', D]);
  }
  hiddenStates.forEach((state, i) => g.output(state, `hidden_states.${i}`, g.float, seqDims));
  return g;
}
