import type { FileStore } from './loading/fileStore.ts';
import type { Tensor, TensorType } from './tensor.ts';

/** Name, element type and shape of a session input or output (symbolic dims are strings). */
export interface ValueInfo {
  name: string;
  type: TensorType | string;
  shape: readonly (number | string)[];
}

/** One loaded ONNX model, as the pipeline sees it. */
export interface OnnxSession {
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /**
   * Runs the model. Only `outputNames` are fetched (all outputs when omitted).
   * @throws whatever the runtime throws; hosts map it to an EngineError code.
   */
  run(feeds: Record<string, Tensor>, outputNames?: readonly string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

/** Where a component's ONNX files live inside a model package. */
export interface SessionSource {
  /** Package folder of the component, e.g. `unet`. */
  component: string;
  /** e.g. `unet/model.onnx`. */
  modelPath: string;
  /** External weight files beside it, e.g. [`unet/model.onnx_data`]; empty when weights are inline. */
  externalData: readonly string[];
  store: FileStore;
}

/**
 * The ONNX runtime a host passes in: onnxruntime-web (WebGPU or WASM) in the browser worker,
 * onnxruntime-node (CPU or CUDA) on the server. The core never imports either package.
 */
export interface OnnxRuntime {
  /** The execution provider sessions run on: 'webgpu', 'wasm', 'cpu', 'cuda'. */
  readonly executionProvider: string;
  createSession(source: SessionSource): Promise<OnnxSession>;
}
