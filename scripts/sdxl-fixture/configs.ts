/**
 * Fixture configurations: the tiny SDXL used by tests and the default install, and the real SDXL base 1.0
 * configuration (stabilityai/stable-diffusion-xl-base-1.0: `unet/config.json`, `text_encoder/config.json`,
 * `text_encoder_2/config.json`, `vae/config.json`), and the I/O conventions of the exports they imitate.
 */
import type { FloatType, WeightInit } from './onnxGraph.ts';
import type { ClipTextConfig } from './textEncoder.ts';
import type { TimestepInput, UNetConfigFile } from './unet.ts';
import type { VaeConfigFile } from './vae.ts';

export const DIFFUSERS_VERSION = '0.30.0';

/**
 * Element types at a package's graph boundaries. Exports of SDXL differ: optimum fp32 (float32, int64 ids,
 * float `[steps]` timestep in older releases), optimum fp16 (float16 everywhere, a float16 scalar timestep
 * in newer releases), and diffusers' own ONNX script with `--fp16` (int32 ids, int64 `[steps]` timestep).
 */
export interface ExportConventions {
  float: FloatType;
  ids: 'int32' | 'int64';
  timestep: TimestepInput;
}

export const EXPORTS = {
  fp32: { float: 'float32', ids: 'int64', timestep: { type: 'float32', rank: 1 } },
  fp16: { float: 'float16', ids: 'int64', timestep: { type: 'float16', rank: 0 } },
  'fp16-int32': { float: 'float16', ids: 'int32', timestep: { type: 'int64', rank: 1 } },
} as const satisfies Record<string, ExportConventions>;
export type ExportName = keyof typeof EXPORTS;

/** Everything that shapes a fixture package except its tokenizer (learned from the product prompts). */
export interface FixtureConfig {
  name: string;
  textEncoder: (vocabSize: number) => ClipTextConfig;
  textEncoder2: (vocabSize: number) => ClipTextConfig;
  unet: UNetConfigFile;
  vae: VaeConfigFile;
  /** Weight generator: `torch` reproduces PyTorch's `randn`; `uniform` is fast enough for billions. */
  init: WeightInit;
  /** Initializers of at least this many bytes go to `model.onnx_data` in the UNet and text_encoder_2. */
  externalThreshold: number;
  /** The export the package imitates by default. */
  defaultExport: ExportName;
}

function clip(vocabSize: number, fields: Partial<ClipTextConfig>): ClipTextConfig {
  return {
    architectures: ['CLIPTextModel'],
    model_type: 'clip_text_model',
    vocab_size: vocabSize,
    hidden_size: 32,
    intermediate_size: 64,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    max_position_embeddings: 77,
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    projection_dim: 32,
    bos_token_id: vocabSize - 2,
    eos_token_id: 2,
    pad_token_id: 1,
    torch_dtype: 'float32',
    ...fields,
  };
}

const unetBase = {
  _class_name: 'UNet2DConditionModel',
  _diffusers_version: DIFFUSERS_VERSION,
  in_channels: 4,
  out_channels: 4,
  flip_sin_to_cos: true,
  freq_shift: 0,
  mid_block_type: 'UNetMidBlock2DCrossAttn',
  downsample_padding: 1,
  act_fn: 'silu',
  norm_num_groups: 32,
  norm_eps: 1e-5,
  num_attention_heads: null,
  use_linear_projection: true,
  addition_embed_type: 'text_time',
  time_cond_proj_dim: null,
} as const;

const vaeBase = {
  _class_name: 'AutoencoderKL',
  _diffusers_version: DIFFUSERS_VERSION,
  in_channels: 3,
  out_channels: 3,
  down_block_types: new Array(4).fill('DownEncoderBlock2D'),
  up_block_types: new Array(4).fill('UpDecoderBlock2D'),
  act_fn: 'silu',
  latent_channels: 4,
  scaling_factor: 0.13025,
} as const;

/** Sized so a 64x64, 4-step generation takes a fraction of a second on onnxruntime's CPU provider. */
export const TINY: FixtureConfig = {
  name: 'tiny',
  textEncoder: (v) => clip(v, {}),
  textEncoder2: (v) => clip(v, { architectures: ['CLIPTextModelWithProjection'], hidden_act: 'gelu' }),
  unet: {
    ...unetBase,
    sample_size: 8,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [32, 64],
    layers_per_block: 1,
    cross_attention_dim: 64,
    transformer_layers_per_block: [1, 1],
    attention_head_dim: [2, 4],
    addition_time_embed_dim: 8,
    projection_class_embeddings_input_dim: 32 + 6 * 8,
  },
  vae: { ...vaeBase, block_out_channels: [8, 16, 32, 32], layers_per_block: 1, norm_num_groups: 4, sample_size: 64, force_upcast: false },
  init: 'torch',
  externalThreshold: 1024,
  defaultExport: 'fp32',
};

/** CLIP's vocabulary size (openai/clip-vit-large-patch14 and laion CLIP-ViT-bigG-14). */
const CLIP_VOCAB = 49408;

/**
 * SDXL base 1.0 at full size (UNet 2,567,463,684 parameters). Embedding tables have CLIP's 49,408 rows; the
 * fixture's tokenizer uses the first few hundred.
 */
export const SDXL_BASE: FixtureConfig = {
  name: 'sdxl-base',
  textEncoder: () =>
    clip(CLIP_VOCAB, { hidden_size: 768, intermediate_size: 3072, num_hidden_layers: 12, num_attention_heads: 12, projection_dim: 768, bos_token_id: 49406, eos_token_id: 2, torch_dtype: 'float16' }),
  textEncoder2: () =>
    clip(CLIP_VOCAB, {
      architectures: ['CLIPTextModelWithProjection'],
      hidden_act: 'gelu',
      hidden_size: 1280,
      intermediate_size: 5120,
      num_hidden_layers: 32,
      num_attention_heads: 20,
      projection_dim: 1280,
      bos_token_id: 49406,
      eos_token_id: 2,
      torch_dtype: 'float16',
    }),
  unet: {
    ...unetBase,
    sample_size: 128,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    up_block_types: ['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [320, 640, 1280],
    layers_per_block: 2,
    cross_attention_dim: 2048,
    transformer_layers_per_block: [1, 2, 10],
    attention_head_dim: [5, 10, 20],
    addition_time_embed_dim: 256,
    projection_class_embeddings_input_dim: 2816,
  },
  vae: { ...vaeBase, block_out_channels: [128, 256, 512, 512], layers_per_block: 2, norm_num_groups: 32, sample_size: 1024, force_upcast: true },
  init: 'uniform',
  externalThreshold: 1024,
  defaultExport: 'fp16',
};

export const CONFIGS: Record<string, FixtureConfig> = { tiny: TINY, 'sdxl-base': SDXL_BASE };
