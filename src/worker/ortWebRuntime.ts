/**
 * The browser's ONNX runtime: the only importer of onnxruntime-web. WebGPU execution provider when the
 * device has an adapter, WASM otherwise; the WASM binary is served by the app itself (and precached by
 * the service worker), never fetched from a CDN.
 */
import * as ort from 'onnxruntime-web';
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url';
import type { OnnxRuntime, OnnxSession, SessionSource, ValueInfo } from '../core/runtime.ts';
import type { Tensor } from '../core/tensor.ts';

ort.env.wasm.wasmPaths = { wasm: wasmUrl };
ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
ort.env.webgpu.powerPreference = 'high-performance';
ort.env.logLevel = 'error';

export type WebExecutionProvider = 'webgpu' | 'wasm';

function valueInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));
}

function fromOrt(t: ort.Tensor): Tensor {
  if (t.type === 'float32' || t.type === 'float16' || t.type === 'int32' || t.type === 'int64') {
    const data = t.type === 'float16' && !(t.data instanceof Uint16Array) ? new Uint16Array((t.data as { buffer: ArrayBuffer }).buffer) : t.data;
    return { type: t.type, data, dims: [...t.dims] } as Tensor;
  }
  throw new TypeError(`unexpected output type ${t.type}`);
}

/** Calls `onLost` once if the WebGPU device onnxruntime-web created is lost. */
async function watchDevice(onLost: (message: string) => void): Promise<void> {
  const device = await (ort.env.webgpu as { device?: Promise<GPUDevice> | GPUDevice }).device;
  if (device && 'lost' in device) void device.lost.then((info) => onLost(`WebGPU device lost: ${info.reason} ${info.message}`));
}

/**
 * @param onDeviceLost called when the GPU device goes away (driver reset, memory pressure); sessions are
 *   unusable afterwards.
 */
export function createWebRuntime(executionProvider: WebExecutionProvider, onDeviceLost: (message: string) => void): OnnxRuntime {
  let watching = false;
  return {
    executionProvider,
    async createSession(source: SessionSource): Promise<OnnxSession> {
      const model = await source.store.readBytes(source.modelPath);
      const externalData = await Promise.all(
        source.externalData.map(async (path) => ({ path: path.slice(path.lastIndexOf('/') + 1), data: await source.store.readBytes(path) })),
      );
      const session = await ort.InferenceSession.create(model, {
        executionProviders: [executionProvider],
        graphOptimizationLevel: 'all',
        externalData,
      });
      if (executionProvider === 'webgpu' && !watching) {
        watching = true;
        void watchDevice(onDeviceLost);
      }
      return {
        inputs: valueInfo(session.inputMetadata),
        outputs: valueInfo(session.outputMetadata),
        async run(feeds, outputNames) {
          const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, [...v.dims])]));
          const result = outputNames ? await session.run(ortFeeds, [...outputNames]) : await session.run(ortFeeds);
          return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, fromOrt(v as ort.Tensor)]));
        },
        release: () => session.release(),
      };
    },
  };
}
