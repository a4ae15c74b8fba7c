import { readJson, type FileStore, ModelFileMissingError } from './fileStore.ts';
import type { SchedulerConfig } from '../schedulers/config.ts';

/** `model_index.json` (diffusers `DiffusionPipeline.save_pretrained`, or optimum's ORT pipelines). */
export interface ModelIndex {
  _class_name: string;
  _diffusers_version?: string;
  /** SDXL base: true; an empty negative prompt then gives zero embeddings instead of encoding "". */
  force_zeros_for_empty_prompt?: boolean;
  [component: string]: unknown;
}

/** The `unet/config.json` keys the pipeline and the capability check read (diffusers `UNet2DConditionModel`). */
export interface UNetConfig {
  sample_size: number;
  in_channels: number;
  out_channels?: number;
  block_out_channels: number[];
  down_block_types: string[];
  /** Diffusers quirk: for SDXL this is the number of heads per block (`num_attention_heads` is null). */
  attention_head_dim: number | number[];
  num_attention_heads?: number | number[] | null;
  cross_attention_dim: number;
  addition_embed_type?: string | null;
  addition_time_embed_dim?: number;
  projection_class_embeddings_input_dim?: number;
  /** Set for guidance-distilled models (LCM): guidance goes in as an embedding, not as CFG. */
  time_cond_proj_dim?: number | null;
}

/** The `vae_decoder/config.json` keys the pipeline reads (diffusers `AutoencoderKL`). */
export interface VaeConfig {
  block_out_channels: number[];
  latent_channels: number;
  /** SDXL: 0.13025. Latents are divided by it before decoding. */
  scaling_factor: number;
  shift_factor?: number | null;
  latents_mean?: number[] | null;
  latents_std?: number[] | null;
  norm_num_groups?: number;
  force_upcast?: boolean;
}

/** The SDXL components every package has, by their package folder names. */
export const SDXL_COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'] as const;
/** Components a package may have: the VAE encoder, needed for image-to-image only. */
export const OPTIONAL_COMPONENTS = ['vae_encoder'] as const;
export type SdxlComponent = (typeof SDXL_COMPONENTS)[number] | (typeof OPTIONAL_COMPONENTS)[number];

/** Pipeline classes whose packages this core runs. */
export const SDXL_PIPELINE_CLASSES = [
  'StableDiffusionXLPipeline',
  'StableDiffusionXLImg2ImgPipeline',
  'ORTStableDiffusionXLPipeline',
  'ORTStableDiffusionXLImg2ImgPipeline',
  'OnnxStableDiffusionXLPipeline',
];

/** Files of one ONNX component. */
export interface ComponentFiles {
  modelPath: string;
  externalData: string[];
}

/** Everything small in an SDXL package: configs, and where each component's ONNX files are. */
export interface SdxlPackage {
  index: ModelIndex;
  scheduler: SchedulerConfig;
  unet: UNetConfig;
  vae: VaeConfig;
  components: Record<(typeof SDXL_COMPONENTS)[number], ComponentFiles> & Partial<Record<(typeof OPTIONAL_COMPONENTS)[number], ComponentFiles>>;
  /** `2 ** (len(vae.block_out_channels) - 1)`: pixels per latent cell (8 for SDXL). */
  vaeScaleFactor: number;
}

/** The package is not an SDXL package this core can run; names the file and what is wrong. */
export class ModelPackageError extends Error {
  override readonly name = 'ModelPackageError';
  readonly code = 'model_package';
}

/**
 * Reads the external-data file list of a component: `model.onnx_data` (an optimum export), then the shards
 * `model.onnx_data_1`, `model.onnx_data_2`, ... of a converted variant, while they exist.
 */
async function componentFiles(store: FileStore, component: string): Promise<ComponentFiles> {
  const modelPath = `${component}/model.onnx`;
  if (!(await store.exists(modelPath))) throw new ModelFileMissingError(modelPath);
  const externalData: string[] = [];
  for (let i = 0; ; i++) {
    const path = `${component}/model.onnx_data${i ? `_${i}` : ''}`;
    if (!(await store.exists(path))) break;
    externalData.push(path);
  }
  return { modelPath, externalData };
}

/** The VAE config: optimum writes one beside each VAE part; a diffusers `vae/` folder also works. */
async function readVaeConfig(store: FileStore): Promise<VaeConfig> {
  for (const path of ['vae_decoder/config.json', 'vae/config.json', 'vae_encoder/config.json']) {
    if (await store.exists(path)) return readJson<VaeConfig>(store, path);
  }
  throw new ModelFileMissingError('vae_decoder/config.json');
}

/**
 * Reads `model_index.json`, `scheduler/scheduler_config.json`, `unet/config.json` and the VAE config, and
 * checks that every component's `model.onnx` is present.
 * @throws ModelPackageError for a pipeline class other than SDXL; ModelFileMissingError for a missing file.
 */
export async function readSdxlPackage(store: FileStore): Promise<SdxlPackage> {
  const index = await readJson<ModelIndex>(store, 'model_index.json');
  if (!SDXL_PIPELINE_CLASSES.includes(index._class_name)) {
    throw new ModelPackageError(`model_index.json: _class_name "${index._class_name}" is not an SDXL pipeline (${SDXL_PIPELINE_CLASSES.join(', ')})`);
  }
  const [scheduler, unet, vae] = await Promise.all([
    readJson<SchedulerConfig>(store, 'scheduler/scheduler_config.json'),
    readJson<UNetConfig>(store, 'unet/config.json'),
    readVaeConfig(store),
  ]);
  const entries = await Promise.all(SDXL_COMPONENTS.map(async (c) => [c, await componentFiles(store, c)] as const));
  for (const c of OPTIONAL_COMPONENTS) {
    if (await store.exists(`${c}/model.onnx`)) entries.push([c, await componentFiles(store, c)] as never);
  }
  return {
    index,
    scheduler,
    unet,
    vae,
    components: Object.fromEntries(entries) as SdxlPackage['components'],
    vaeScaleFactor: 2 ** (vae.block_out_channels.length - 1),
  };
}
