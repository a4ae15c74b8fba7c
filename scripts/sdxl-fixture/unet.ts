/**
 * A `UNet2DConditionModel` with SDXL's structure (diffusers `models/unets/unet_2d_condition.py`):
 * sinusoidal timestep embedding and MLP, the `text_time` add-embedding of `text_embeds` and `time_ids`,
 * ResNet blocks, `Transformer2DModel`s with linear projection, self- and cross-attention and GEGLU
 * feed-forward, strided-conv downsampling, nearest upsampling with skip connections.
 */
import { attention, conv2d, fromTokens, gelu, groupNorm, layerNorm, linear, resnetBlock, silu, timestepEmbedding, toTokens } from './layers.ts';
import { OnnxGraph, type ElemType, type GraphOptions } from './onnxGraph.ts';

/** diffusers `UNet2DConditionModel` config (the keys written to `unet/config.json`). */
export interface UNetConfigFile {
  _class_name: 'UNet2DConditionModel';
  _diffusers_version: string;
  sample_size: number;
  in_channels: number;
  out_channels: number;
  flip_sin_to_cos: boolean;
  freq_shift: number;
  down_block_types: string[];
  mid_block_type: 'UNetMidBlock2DCrossAttn';
  up_block_types: string[];
  block_out_channels: number[];
  layers_per_block: number;
  downsample_padding: number;
  act_fn: 'silu';
  norm_num_groups: number;
  norm_eps: number;
  cross_attention_dim: number;
  transformer_layers_per_block: number[];
  attention_head_dim: number[];
  num_attention_heads: null;
  use_linear_projection: boolean;
  addition_embed_type: 'text_time';
  addition_time_embed_dim: number;
  projection_class_embeddings_input_dim: number;
  time_cond_proj_dim: null;
}

interface Ctx {
  g: OnnxGraph;
  cfg: UNetConfigFile;
  temb: { value: string; channels: number };
  context: string;
}

/** diffusers `Transformer2DModel` (use_linear_projection=True) with `BasicTransformerBlock`s. */
function transformer2d(ctx: Ctx, x: string, channels: number, heads: number, layers: number): string {
  const { g, cfg } = ctx;
  let h = g.within('norm', () => groupNorm(g, x, channels, cfg.norm_num_groups, 1e-6));
  h = g.within('proj_in', () => linear(g, toTokens(g, h), channels, channels));
  for (let i = 0; i < layers; i++) {
    h = g.within(`transformer_blocks.${i}`, () => {
      const selfAttn = g.within('attn1', () => attention(g, g.within('norm1', () => layerNorm(g, h, channels, 1e-5)), channels, heads, { qkvBias: false }));
      let y = g.node('Add', [selfAttn, h]);
      const crossAttn = g.within('attn2', () =>
        attention(g, g.within('norm2', () => layerNorm(g, y, channels, 1e-5)), channels, heads, {
          qkvBias: false,
          context: ctx.context,
          contextDim: cfg.cross_attention_dim,
        }),
      );
      y = g.node('Add', [crossAttn, y]);
      const ff = g.within('ff', () => {
        const normed = g.within('norm3', () => layerNorm(g, y, channels, 1e-5));
        const proj = g.within('net.0', () => g.within('proj', () => linear(g, normed, channels, channels * 8)));
        const [hidden, gate] = g.nodeN('Split', [proj, g.const([channels * 4, channels * 4])], 2, { axis: -1 });
        return g.within('net.2', () => linear(g, g.node('Mul', [hidden!, gelu(g, gate!)]), channels * 4, channels));
      });
      return g.node('Add', [ff, y]);
    });
  }
  h = g.within('proj_out', () => linear(g, h, channels, channels));
  return g.node('Add', [fromTokens(g, h, x), x]);
}

function resnet(ctx: Ctx, x: string, inC: number, outC: number): string {
  return resnetBlock(ctx.g, x, inC, outC, { groups: ctx.cfg.norm_num_groups, eps: ctx.cfg.norm_eps, temb: ctx.temb });
}

/**
 * The UNet `timestep` input: element type and rank. Exports differ: diffusers' own ONNX script and older
 * optimum give int64 or float `[steps]`, newer optimum a float scalar.
 */
export interface TimestepInput {
  type: ElemType;
  rank: 0 | 1;
}

/** Builds the UNet graph for `cfg`; float inputs and outputs have the graph's float type. */
export function buildUNet(cfg: UNetConfigFile, options: GraphOptions & { timestep?: TimestepInput }): OnnxGraph {
  const g = new OnnxGraph('unet', options);
  const C = cfg.block_out_channels;
  const tembChannels = C[0]! * 4;
  const timestepInput = options.timestep ?? { type: 'float32', rank: 1 };
  const sample = g.input('sample', g.float, ['batch_size', cfg.in_channels, 'height', 'width']);
  const timestep = g.input('timestep', timestepInput.type, timestepInput.rank ? ['steps'] : []);
  const context = g.input('encoder_hidden_states', g.float, ['batch_size', 'sequence_length', cfg.cross_attention_dim]);
  const textEmbeds = g.input('text_embeds', g.float, ['batch_size', cfg.projection_class_embeddings_input_dim - 6 * cfg.addition_time_embed_dim]);
  const timeIds = g.input('time_ids', g.float, ['batch_size', 6]);

  // 1. time: broadcast the timestep to the batch, sinusoidal embedding (float32), MLP
  const batch = g.node('Slice', [g.node('Shape', [sample]), g.const([0]), g.const([1]), g.const([0])]);
  const t = g.node('Expand', [timestep, batch]);
  let emb = g.within('time_embedding', () => {
    const h = g.within('linear_1', () => linear(g, g.toFloat(timestepEmbedding(g, t, C[0]!), 'float32'), C[0]!, tembChannels));
    return g.within('linear_2', () => linear(g, silu(g, h), tembChannels, tembChannels));
  });
  // 2. SDXL add-embedding: sinusoidal time_ids (float32), concatenated after text_embeds, MLP
  const timeEmbeds = g.node('Reshape', [timestepEmbedding(g, g.node('Reshape', [timeIds, g.const([-1])]), cfg.addition_time_embed_dim), g.const([-1, 6 * cfg.addition_time_embed_dim])]);
  const aug = g.within('add_embedding', () => {
    // torch.concat promotes text_embeds to float32; the result is cast to the model's dtype
    const addEmbeds = g.toFloat(g.node('Concat', [g.float === 'float32' ? textEmbeds : g.node('Cast', [textEmbeds], { to: 1 }), timeEmbeds], { axis: 1 }), 'float32');
    const h = g.within('linear_1', () => linear(g, addEmbeds, cfg.projection_class_embeddings_input_dim, tembChannels));
    return g.within('linear_2', () => linear(g, silu(g, h), tembChannels, tembChannels));
  });
  emb = g.node('Add', [emb, aug]);
  const ctx: Ctx = { g, cfg, temb: { value: emb, channels: tembChannels }, context };

  // 3. down
  let h = g.within('conv_in', () => conv2d(g, sample, cfg.in_channels, C[0]!, 3));
  const skips: { value: string; channels: number }[] = [{ value: h, channels: C[0]! }];
  let channels = C[0]!;
  cfg.down_block_types.forEach((type, i) => {
    g.within(`down_blocks.${i}`, () => {
      for (let j = 0; j < cfg.layers_per_block; j++) {
        h = g.within(`resnets.${j}`, () => resnet(ctx, h, channels, C[i]!));
        channels = C[i]!;
        if (type === 'CrossAttnDownBlock2D') {
          h = g.within(`attentions.${j}`, () => transformer2d(ctx, h, channels, cfg.attention_head_dim[i]!, cfg.transformer_layers_per_block[i]!));
        }
        skips.push({ value: h, channels });
      }
      if (i < cfg.down_block_types.length - 1) {
        h = g.within('downsamplers.0', () => g.within('conv', () => conv2d(g, h, channels, channels, 3, 2, cfg.downsample_padding)));
        skips.push({ value: h, channels });
      }
    });
  });

  // 4. mid
  const heads = cfg.attention_head_dim.at(-1)!;
  g.within('mid_block', () => {
    h = g.within('resnets.0', () => resnet(ctx, h, channels, channels));
    h = g.within('attentions.0', () => transformer2d(ctx, h, channels, heads, cfg.transformer_layers_per_block.at(-1)!));
    h = g.within('resnets.1', () => resnet(ctx, h, channels, channels));
  });

  // 5. up: each block takes layers_per_block + 1 skips; upsampling to the next skip's size (odd sizes work)
  const reversed = [...C].reverse();
  const reversedHeads = [...cfg.attention_head_dim].reverse();
  const reversedLayers = [...cfg.transformer_layers_per_block].reverse();
  cfg.up_block_types.forEach((type, i) => {
    g.within(`up_blocks.${i}`, () => {
      for (let j = 0; j <= cfg.layers_per_block; j++) {
        const skip = skips.pop()!;
        const joined = g.node('Concat', [h, skip.value], { axis: 1 });
        h = g.within(`resnets.${j}`, () => resnet(ctx, joined, channels + skip.channels, reversed[i]!));
        channels = reversed[i]!;
        if (type === 'CrossAttnUpBlock2D') {
          h = g.within(`attentions.${j}`, () => transformer2d(ctx, h, channels, reversedHeads[i]!, reversedLayers[i]!));
        }
      }
      if (i < cfg.up_block_types.length - 1) {
        const next = skips.at(-1)!.value;
        h = g.within('upsamplers.0', () => {
          const sizes = g.node('Concat', [g.node('Slice', [g.node('Shape', [h]), g.const([0]), g.const([2]), g.const([0])]), g.node('Slice', [g.node('Shape', [next]), g.const([2]), g.const([4]), g.const([0])])], { axis: 0 });
          const up = g.node('Resize', [h, '', '', sizes], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
          return g.within('conv', () => conv2d(g, up, channels, channels, 3));
        });
      }
    });
  });

  // 6. out
  h = g.within('conv_norm_out', () => groupNorm(g, h, channels, cfg.norm_num_groups, cfg.norm_eps));
  h = g.within('conv_out', () => conv2d(g, silu(g, h), channels, cfg.out_channels, 3));
  g.output(h, 'out_sample', g.float, ['batch_size', cfg.out_channels, 'height', 'width']);
  return g;
}
