/**
 * An `AutoencoderKL` decoder with the structure of diffusers `models/autoencoders/vae.py` `Decoder`
 * (plus `post_quant_conv`, as optimum's `vae_decoder` export includes it): conv_in, a mid block with
 * ResNets and single-head spatial attention, up blocks with nearest 2x upsampling, GroupNorm, SiLU, conv_out.
 */
import { attention, conv2d, fromTokens, groupNorm, resnetBlock, silu, toTokens } from './layers.ts';
import { OnnxGraph, type GraphOptions } from './onnxGraph.ts';

/** diffusers `UNetMidBlock2D` of the VAE: ResNet, single-head spatial self-attention with a residual, ResNet. */
function vaeMidBlock(g: OnnxGraph, x: string, channels: number, groups: number, eps: number): string {
  let h = g.within('resnets.0', () => resnetBlock(g, x, channels, channels, { groups, eps }));
  h = g.within('attentions.0', () => {
    const normed = g.within('group_norm', () => groupNorm(g, h, channels, groups, eps));
    const attended = attention(g, toTokens(g, normed), channels, 1, { qkvBias: true });
    return g.node('Add', [fromTokens(g, attended, h), h]);
  });
  return g.within('resnets.1', () => resnetBlock(g, h, channels, channels, { groups, eps }));
}

/**
 * An `AutoencoderKL` encoder with the structure of diffusers `models/autoencoders/vae.py` `Encoder`
 * (plus `quant_conv`, as optimum's `vae_encoder` export includes it): conv_in, down blocks with ResNets and
 * stride-2 convolutions after a (0, 1, 0, 1) pad, a mid block with attention, GroupNorm, SiLU, conv_out to
 * mean and log-variance. `output: 'latent_sample'` gives the mean (`latent_dist.mode()`, the optimum layout's
 * deterministic form); `'latent_parameters'` gives mean and log-variance, as newer optimum exports.
 */
export function buildVaeEncoder(cfg: VaeConfigFile, options: GraphOptions, output: 'latent_sample' | 'latent_parameters' = 'latent_sample'): OnnxGraph {
  const g = new OnnxGraph('vae_encoder', options);
  const groups = cfg.norm_num_groups;
  const eps = 1e-6;
  const C = cfg.block_out_channels;
  const sample = g.input('sample', g.float, ['batch_size', cfg.in_channels, 'sample_height', 'sample_width']);
  let h = sample;
  let channels = C[0]!;
  g.within('encoder', () => {
    h = g.within('conv_in', () => conv2d(g, h, cfg.in_channels, channels, 3));
    C.forEach((out, i) => {
      g.within(`down_blocks.${i}`, () => {
        for (let j = 0; j < cfg.layers_per_block; j++) {
          h = g.within(`resnets.${j}`, () => resnetBlock(g, h, channels, out, { groups, eps }));
          channels = out;
        }
        if (i < C.length - 1) {
          h = g.within('downsamplers.0', () => {
            const padded = g.node('Pad', [h, g.const([0, 0, 0, 0, 0, 0, 1, 1]), g.floatConst([0])], { mode: 'constant' });
            return g.within('conv', () => conv2d(g, padded, channels, channels, 3, 2, 0));
          });
        }
      });
    });
    h = g.within('mid_block', () => vaeMidBlock(g, h, channels, groups, eps));
    h = g.within('conv_norm_out', () => groupNorm(g, h, channels, groups, eps));
    h = g.within('conv_out', () => conv2d(g, silu(g, h), channels, 2 * cfg.latent_channels, 3));
  });
  h = g.within('quant_conv', () => conv2d(g, h, 2 * cfg.latent_channels, 2 * cfg.latent_channels, 1));
  const factor = 2 ** (C.length - 1);
  const dims = ['batch_size', output === 'latent_sample' ? cfg.latent_channels : 2 * cfg.latent_channels, `sample_height / ${factor}`, `sample_width / ${factor}`];
  if (output === 'latent_sample') h = g.node('Slice', [h, g.const([0]), g.const([cfg.latent_channels]), g.const([1])]);
  g.output(h, output, g.float, dims);
  return g;
}


/** diffusers `AutoencoderKL` config (the keys written to `vae_decoder/config.json`). */
export interface VaeConfigFile {
  _class_name: 'AutoencoderKL';
  _diffusers_version: string;
  in_channels: number;
  out_channels: number;
  down_block_types: string[];
  up_block_types: string[];
  block_out_channels: number[];
  layers_per_block: number;
  act_fn: 'silu';
  latent_channels: number;
  norm_num_groups: number;
  sample_size: number;
  scaling_factor: number;
  force_upcast: boolean;
}

/** Builds the `vae_decoder` graph: `latent_sample` `[B, 4, h, w]` -> `sample` `[B, 3, 8h, 8w]`. */
export function buildVaeDecoder(cfg: VaeConfigFile, options: GraphOptions): OnnxGraph {
  const g = new OnnxGraph('vae_decoder', options);
  const groups = cfg.norm_num_groups;
  const eps = 1e-6;
  const latent = g.input('latent_sample', g.float, ['batch_size', cfg.latent_channels, 'latent_height', 'latent_width']);
  let h = g.within('post_quant_conv', () => conv2d(g, latent, cfg.latent_channels, cfg.latent_channels, 1));
  const reversed = [...cfg.block_out_channels].reverse();
  let channels = reversed[0]!;
  g.within('decoder', () => {
    h = g.within('conv_in', () => conv2d(g, h, cfg.latent_channels, channels, 3));
    h = g.within('mid_block', () => vaeMidBlock(g, h, channels, groups, eps));
    reversed.forEach((out, i) => {
      g.within(`up_blocks.${i}`, () => {
        for (let j = 0; j <= cfg.layers_per_block; j++) {
          h = g.within(`resnets.${j}`, () => resnetBlock(g, h, channels, out, { groups, eps }));
          channels = out;
        }
        if (i < reversed.length - 1) {
          h = g.within('upsamplers.0', () => {
            const up = g.node('Resize', [h, '', g.const([1, 1, 2, 2], 'float32')], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
            return g.within('conv', () => conv2d(g, up, channels, channels, 3));
          });
        }
      });
    });
    h = g.within('conv_norm_out', () => groupNorm(g, h, channels, groups, eps));
    h = g.within('conv_out', () => conv2d(g, silu(g, h), channels, cfg.out_channels, 3));
  });
  const factor = 2 ** (cfg.block_out_channels.length - 1);
  g.output(h, 'sample', g.float, ['batch_size', cfg.out_channels, `latent_height * ${factor}`, `latent_width * ${factor}`]);
  return g;
}
