import type { SdxlComponent } from './modelPackage.ts';
import type { TensorSite } from '../capabilities.ts';

/** One file of a model package, as the browser downloads it. */
export interface ManifestFile {
  /** Package-relative path, e.g. `unet/model.onnx_data`. */
  path: string;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 of the contents: the cache key of the stored copy. */
  sha256: string;
}

/**
 * What a client needs to know about a model package before downloading it: its files, the element
 * type of each component, and the tensors that bound its GPU buffer needs. Built by the server from the
 * package folder (`server/src/models/manifest.ts`), served at `/models/<id>/manifest.json`.
 */
export interface ModelManifest {
  id: string;
  /** `model_index.json` `_class_name`. */
  pipeline: string;
  /** Square side in pixels the model was trained at (`unet.sample_size * vaeScaleFactor`): 1024 for SDXL. */
  nativeSide: number;
  vaeScaleFactor: number;
  files: ManifestFile[];
  totalBytes: number;
  /** Element type of each component's float inputs (`vae_encoder` only when the package has one). */
  dtypes: Partial<Record<SdxlComponent, 'float32' | 'float16'>>;
  /** Largest weight tensor of any component, bytes. */
  largestWeightBytes: number;
  /** Activation tensors whose size grows with the image (see `largestActivationBytes`). */
  activations: TensorSite[];
}
