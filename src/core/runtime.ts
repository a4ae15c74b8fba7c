import type { FileStore } from './loading/fileStore.ts';
import type { Tensor, TensorType } from './tensor.ts';

/** Name, element type and shape of a session input or output (symbolic dims are strings). */
export interface ValueInfo {
  name: string;
  type: TensorType | string;
  shape: readonly (number | string)[];
}

/**
 * A tensor the runtime keeps on its device (a GPU buffer) between runs: its element type and dims are known
 * here, its data only through `DeviceTensors.download`.
 */
export interface DeviceTensor {
  readonly location: 'device';
  readonly type: TensorType;
  readonly dims: readonly number[];
}

/** What a session can be fed: host data, or a tensor already on the device. */
export type Feed = Tensor | DeviceTensor;

/** Moving tensors to and from a runtime's device. */
export interface DeviceTensors {
  upload(t: Tensor): Promise<DeviceTensor>;
  /** Reads the tensor back to the host (a GPU-to-CPU copy and a wait for the GPU). */
  download(t: DeviceTensor): Promise<Tensor>;
  /** Frees the device memory; the tensor must not be used afterwards. */
  dispose(t: DeviceTensor): void;
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
  /**
   * Runs the model with feeds that may live on the device, leaving `outputNames` there: no copy to or from
   * the host. Present only where the runtime has a device (onnxruntime-web on WebGPU).
   */
  runOnDevice?(feeds: Record<string, Feed>, outputNames: readonly string[]): Promise<Record<string, DeviceTensor>>;
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
 * onnxruntime-node (CPU, WebGPU or CUDA) on the server. The core never imports either package.
 */
export interface OnnxRuntime {
  /** The execution provider sessions run on: 'webgpu', 'wasm', 'cpu', 'cuda'. */
  readonly executionProvider: string;
  createSession(source: SessionSource): Promise<OnnxSession>;
  /**
   * The device tensors live on, and sessions built from model bytes (the pipeline's own small graphs) whose
   * outputs stay there; absent where everything runs on the host.
   */
  readonly device?: DeviceTensors & { createSessionFromModel(name: string, model: Uint8Array): Promise<OnnxSession> };
}
