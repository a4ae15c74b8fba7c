import type { SdxlComponent } from './modelPackage.ts';
import type { TensorSite } from '../capabilities.ts';

/** One file of a model package. Files are content-addressed: the device stores and downloads each sha256 once. */
export interface ManifestFile {
  /** Package-relative path, e.g. `unet/model.onnx_data` or `variants/q4f16/unet/model.onnx_data_1`. */
  path: string;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 of the contents. */
  sha256: string;
  /** Hex SHA-256 of each `chunkBytes` slice of the file (the last may be shorter), for verified, resumable downloads. */
  chunks: string[];
}

/** One ONNX component of a variant. */
export interface VariantComponent {
  /** e.g. `variants/q4f16/unet/model.onnx`. */
  model: string;
  /** External-data files, in the names the graph references (`model.onnx_data`, `model.onnx_data_1`, ...). */
  externalData: string[];
  /** Element type of the component's float inputs and outputs (the pipeline converts to and from it). */
  dtype: 'float32' | 'float16';
  /** Bytes of `model.onnx` plus its external data. */
  bytes: number;
  /** Bytes the session holds once created (weights stored in fp16 and cast to fp32 on load count twice). */
  residentBytes: number;
  /** Largest single initializer, bytes: it needs one GPU buffer. */
  largestInitializerBytes: number;
}

/** What a variant needs from the device. */
export interface VariantNeeds {
  /** Some component computes in fp16: WebGPU `shader-f16`. */
  shaderF16: boolean;
  /** Largest initializer of any component, bytes (maxBufferSize and maxStorageBufferBindingSize). */
  largestInitializerBytes: number;
  /** Bytes of all ONNX files (model + external data) of the variant. */
  weightBytes: number;
  /** Bytes of every distinct file (by content) the variant needs, configs and tokenizers too: what a device downloads. */
  downloadBytes: number;
  /** Tensors that grow with the image size, in each component's element type (see `largestActivation`). */
  activations: TensorSite[];
  /**
   * Estimated peak memory of a generation at the model's native size (`estimatePeakBytes`, VAE activations
   * uncapped), bytes, with every session resident and with sequential residency; other sizes are computed
   * from `activations`.
   */
  peakMemoryBytes: { side: number; resident: number; sequential: number };
}

/**
 * One way to run the package: the export itself (`root: ''`, named after its dtype) or a converted browser
 * variant (`npm run convert`, stored under `variants/<name>/`).
 */
export interface ManifestVariant {
  /** `fp32`, `fp16`, `q4f16`, `q4f32` or `q8`. */
  name: string;
  /** Folder of the variant inside the package: `''` or `variants/<name>`. */
  root: string;
  /** Paths of every file the variant uses. */
  files: string[];
  components: Partial<Record<SdxlComponent, VariantComponent>>;
  needs: VariantNeeds;
}

/**
 * What a client needs to know about a model package before downloading it: its files (with hashes), its
 * variants in the server's order of preference, and what each needs. Built by the server from the package
 * folder (`server/src/models/manifest.ts`), served at `/models/<id>/manifest.json`.
 */
export interface ModelManifest {
  schema: 2;
  id: string;
  /** `model_index.json` `_class_name`. */
  pipeline: string;
  /** Square side in pixels the model was trained at (`unet.sample_size * vaeScaleFactor`): 1024 for SDXL. */
  nativeSide: number;
  vaeScaleFactor: number;
  /** A full-size checkpoint (gigabytes): never auto-run on a software adapter; downloaded in the background. */
  realSize: boolean;
  /** Chunk size of `ManifestFile.chunks`, bytes. */
  chunkBytes: number;
  files: ManifestFile[];
  /** Preferred first. */
  variants: ManifestVariant[];
  /** SHA-256 over the file list: it changes when any file does (the device compares it with the server's). */
  version: string;
}

/** The manifest's file entry for `path`. @throws RangeError for a path the manifest does not list. */
export function manifestFile(manifest: ModelManifest, path: string): ManifestFile {
  const file = manifest.files.find((f) => f.path === path);
  if (!file) throw new RangeError(`${manifest.id}: the manifest has no file ${path}`);
  return file;
}

/** The variant named `name`. @throws RangeError naming the variants there are. */
export function manifestVariant(manifest: ModelManifest, name: string): ManifestVariant {
  const variant = manifest.variants.find((v) => v.name === name);
  if (!variant) throw new RangeError(`${manifest.id} has no variant "${name}" (has ${manifest.variants.map((v) => v.name).join(', ')})`);
  return variant;
}

/** Distinct files (by content) of a variant, with their sizes: what a device downloads for it. */
export function variantFiles(manifest: ModelManifest, variant: ManifestVariant): ManifestFile[] {
  const seen = new Set<string>();
  const out: ManifestFile[] = [];
  for (const path of variant.files) {
    const file = manifestFile(manifest, path);
    if (seen.has(file.sha256)) continue;
    seen.add(file.sha256);
    out.push(file);
  }
  return out;
}
