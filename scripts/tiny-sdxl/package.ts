/**
 * The tiny SDXL package: configs and graphs in the diffusers / optimum ONNX layout, with the real
 * SDXL scheduler config and random weights. Sizes are chosen so a 64x64, 4-step generation takes a
 * fraction of a second on onnxruntime's CPU provider.
 */
import { AD_CASES, DEFAULTS, INDUSTRY_PRESETS } from '../../src/core/product/index.ts';
import { learnClipBpe } from './bpeVocab.ts';
import { buildClipTextModel, type ClipTextConfig } from './textEncoder.ts';
import { buildUNet, type UNetConfigFile } from './unet.ts';
import { buildVaeDecoder, buildVaeEncoder, type VaeConfigFile } from './vae.ts';

const DIFFUSERS_VERSION = '0.30.0';

/** The files of the package: path -> contents. */
export type PackageFiles = Map<string, Uint8Array | string>;

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

function clipTextConfig(vocabSize: number, overrides: Partial<ClipTextConfig>): ClipTextConfig {
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
    ...overrides,
  };
}

function tokenizerFiles(files: PackageFiles, folder: string, vocab: Record<string, number>, merges: string[], padToken: string): void {
  const specials = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: padToken };
  files.set(`${folder}/vocab.json`, json(vocab));
  files.set(`${folder}/merges.txt`, `#version: 0.2\n${merges.join('\n')}\n`);
  files.set(`${folder}/special_tokens_map.json`, json(specials));
  files.set(`${folder}/tokenizer_config.json`, json({ ...specials, tokenizer_class: 'CLIPTokenizer', model_max_length: 77, do_lower_case: true, add_prefix_space: false, errors: 'replace' }));
}

function addModel(files: PackageFiles, folder: string, built: { model: Uint8Array; externalData?: Uint8Array }): void {
  files.set(`${folder}/model.onnx`, built.model);
  if (built.externalData) files.set(`${folder}/model.onnx_data`, built.externalData);
}

/** Builds every file of the tiny SDXL package (deterministic: same bytes on every run). */
export function buildTinySdxlPackage(): PackageFiles {
  const files: PackageFiles = new Map();
  const corpus = [...AD_CASES.flatMap((c) => [c.prompt, c.prompt_ko]), DEFAULTS.negative_prompt, ...Object.values(INDUSTRY_PRESETS)];
  const { vocab, merges } = learnClipBpe(corpus, 400);
  const vocabSize = Object.keys(vocab).length;

  files.set('model_index.json', json({
    _class_name: 'StableDiffusionXLPipeline',
    _diffusers_version: DIFFUSERS_VERSION,
    force_zeros_for_empty_prompt: true,
    scheduler: ['diffusers', 'EulerDiscreteScheduler'],
    text_encoder: ['transformers', 'CLIPTextModel'],
    text_encoder_2: ['transformers', 'CLIPTextModelWithProjection'],
    tokenizer: ['transformers', 'CLIPTokenizer'],
    tokenizer_2: ['transformers', 'CLIPTokenizer'],
    unet: ['diffusers', 'UNet2DConditionModel'],
    vae: ['diffusers', 'AutoencoderKL'],
  }));
  // SDXL base 1.0's scheduler config, unchanged.
  files.set('scheduler/scheduler_config.json', json({
    _class_name: 'EulerDiscreteScheduler',
    _diffusers_version: '0.19.0.dev0',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    clip_sample: false,
    interpolation_type: 'linear',
    num_train_timesteps: 1000,
    prediction_type: 'epsilon',
    sample_max_value: 1.0,
    set_alpha_to_one: false,
    skip_prk_steps: true,
    steps_offset: 1,
    timestep_spacing: 'leading',
    trained_betas: null,
    use_karras_sigmas: false,
  }));
  tokenizerFiles(files, 'tokenizer', vocab, merges, '<|endoftext|>');
  tokenizerFiles(files, 'tokenizer_2', vocab, merges, '!');

  const te1 = clipTextConfig(vocabSize, {});
  const te2 = clipTextConfig(vocabSize, { architectures: ['CLIPTextModelWithProjection'], hidden_act: 'gelu', hidden_size: 32, num_attention_heads: 4, projection_dim: 32 });
  files.set('text_encoder/config.json', json(te1));
  files.set('text_encoder_2/config.json', json(te2));
  addModel(files, 'text_encoder', buildClipTextModel(te1, false, 1).build());
  addModel(files, 'text_encoder_2', buildClipTextModel(te2, true, 2).build(1024));

  const unet: UNetConfigFile = {
    _class_name: 'UNet2DConditionModel',
    _diffusers_version: DIFFUSERS_VERSION,
    sample_size: 8,
    in_channels: 4,
    out_channels: 4,
    flip_sin_to_cos: true,
    freq_shift: 0,
    down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'],
    mid_block_type: 'UNetMidBlock2DCrossAttn',
    up_block_types: ['CrossAttnUpBlock2D', 'UpBlock2D'],
    block_out_channels: [32, 64],
    layers_per_block: 1,
    downsample_padding: 1,
    act_fn: 'silu',
    norm_num_groups: 32,
    norm_eps: 1e-5,
    cross_attention_dim: te1.hidden_size + te2.hidden_size,
    transformer_layers_per_block: [1, 1],
    attention_head_dim: [2, 4],
    num_attention_heads: null,
    use_linear_projection: true,
    addition_embed_type: 'text_time',
    addition_time_embed_dim: 8,
    projection_class_embeddings_input_dim: te2.projection_dim + 6 * 8,
    time_cond_proj_dim: null,
  };
  files.set('unet/config.json', json(unet));
  addModel(files, 'unet', buildUNet(unet, 3).build(1024));

  const vae: VaeConfigFile = {
    _class_name: 'AutoencoderKL',
    _diffusers_version: DIFFUSERS_VERSION,
    in_channels: 3,
    out_channels: 3,
    down_block_types: new Array(4).fill('DownEncoderBlock2D'),
    up_block_types: new Array(4).fill('UpDecoderBlock2D'),
    block_out_channels: [8, 16, 32, 32],
    layers_per_block: 1,
    act_fn: 'silu',
    latent_channels: 4,
    norm_num_groups: 4,
    sample_size: 64,
    scaling_factor: 0.13025,
    force_upcast: false,
  };
  files.set('vae_decoder/config.json', json(vae));
  addModel(files, 'vae_decoder', buildVaeDecoder(vae, 4).build());
  files.set('vae_encoder/config.json', json(vae));
  addModel(files, 'vae_encoder', buildVaeEncoder(vae, 5).build());
  return files;
}
