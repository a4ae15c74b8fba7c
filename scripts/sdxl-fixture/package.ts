/**
 * An SDXL fixture package: configs and graphs in the diffusers / optimum ONNX layout, with the real SDXL
 * scheduler config and random weights, written straight to a folder (weights streamed tensor by tensor).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AD_CASES, DEFAULTS, INDUSTRY_PRESETS } from '../../src/core/product/index.ts';
import { learnClipBpe } from './bpeVocab.ts';
import { DIFFUSERS_VERSION, EXPORTS, type ExportName, type FixtureConfig } from './configs.ts';
import type { OnnxGraph } from './onnxGraph.ts';
import { buildClipTextModel } from './textEncoder.ts';
import { buildUNet } from './unet.ts';
import { buildVaeDecoder, buildVaeEncoder } from './vae.ts';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The package's small files (configs, tokenizers): path -> text. */
type TextFiles = Map<string, string>;

function tokenizerFiles(files: TextFiles, folder: string, vocab: Record<string, number>, merges: string[], padToken: string): void {
  const specials = { bos_token: '<|startoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', pad_token: padToken };
  files.set(`${folder}/vocab.json`, json(vocab));
  files.set(`${folder}/merges.txt`, `#version: 0.2\n${merges.join('\n')}\n`);
  files.set(`${folder}/special_tokens_map.json`, json(specials));
  files.set(`${folder}/tokenizer_config.json`, json({ ...specials, tokenizer_class: 'CLIPTokenizer', model_max_length: 77, do_lower_case: true, add_prefix_space: false, errors: 'replace' }));
}

/** One ONNX component of the package, built on demand (a full-size graph is small until written). */
export interface FixtureComponent {
  folder: 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_decoder' | 'vae_encoder';
  graph: () => OnnxGraph;
  /** External-data threshold in bytes; undefined keeps every weight inside `model.onnx`. */
  externalThreshold?: number;
}

/** A fixture package: its small files and its ONNX components. */
export interface FixturePackage {
  textFiles: TextFiles;
  components: FixtureComponent[];
}

/** Weight seeds per component: another seed is another checkpoint; equal seeds give byte-identical files. */
export type ComponentSeeds = Record<FixtureComponent['folder'], number>;
export const DEFAULT_SEEDS: ComponentSeeds = { text_encoder: 1, text_encoder_2: 2, unet: 3, vae_decoder: 4, vae_encoder: 5 };

/**
 * Builds the description of a package for `config` in the I/O conventions of `exportName` (deterministic).
 * @param seeds per-component weight seeds over `DEFAULT_SEEDS` (style packages differ in their UNet and keep the VAE).
 */
export function fixturePackage(config: FixtureConfig, exportName: ExportName = config.defaultExport, seeds: Partial<ComponentSeeds> = {}): FixturePackage {
  const seed = { ...DEFAULT_SEEDS, ...seeds };
  const conventions = EXPORTS[exportName];
  const float = conventions.float;
  const files: TextFiles = new Map();
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

  const te1 = config.textEncoder(vocabSize);
  const te2 = config.textEncoder2(vocabSize);
  const { unet, vae, init, externalThreshold } = config;
  files.set('text_encoder/config.json', json(te1));
  files.set('text_encoder_2/config.json', json(te2));
  files.set('unet/config.json', json(unet));
  files.set('vae_decoder/config.json', json(vae));
  files.set('vae_encoder/config.json', json(vae));
  return {
    textFiles: files,
    components: [
      { folder: 'text_encoder', graph: () => buildClipTextModel(te1, false, { seed: seed.text_encoder, float, init, ids: conventions.ids }) },
      { folder: 'text_encoder_2', graph: () => buildClipTextModel(te2, true, { seed: seed.text_encoder_2, float, init, ids: conventions.ids }), externalThreshold },
      { folder: 'unet', graph: () => buildUNet(unet, { seed: seed.unet, float, init, timestep: conventions.timestep }), externalThreshold },
      { folder: 'vae_decoder', graph: () => buildVaeDecoder(vae, { seed: seed.vae_decoder, float, init }) },
      { folder: 'vae_encoder', graph: () => buildVaeEncoder(vae, { seed: seed.vae_encoder, float, init }) },
    ],
  };
}

/**
 * Writes the package into `outDir` (which should be empty), one component at a time.
 * @param onComponent called after each component with its folder and bytes written.
 * @returns total bytes written.
 */
export function writeFixturePackage(pkg: FixturePackage, outDir: string, onComponent?: (folder: string, bytes: number) => void): number {
  let total = 0;
  for (const [path, text] of pkg.textFiles) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), text);
    total += Buffer.byteLength(text);
  }
  for (const component of pkg.components) {
    const bytes = component.graph().write(join(outDir, component.folder), component.externalThreshold);
    onComponent?.(component.folder, bytes);
    total += bytes;
  }
  return total;
}

/** Learned parameters per component (`sum(p.numel() for p in module.parameters())`), without drawing any. */
export function parameterCounts(pkg: FixturePackage): Record<string, number> {
  return Object.fromEntries(pkg.components.map((c) => [c.folder, c.graph().parameterCount()]));
}
