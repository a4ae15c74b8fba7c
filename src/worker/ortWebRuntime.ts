/**
 * The browser's ONNX runtime: the only importer of onnxruntime-web, always with its native (C++, Dawn) WebGPU
 * execution provider, which onnxruntime is moving every build to (JSEP is being retired,
 * microsoft/onnxruntime#29716). Where the browser has JSPI (WebAssembly JavaScript Promise Integration:
 * Chromium 137 and later) the JSPI build is used: it reads each initializer from a Blob while creating the
 * session, so weight shards never sit in JavaScript memory. Elsewhere the asyncify build
 * (`onnxruntime-web/webgpu`) gets each external-data file as bytes, one component at a time. WebGPU when the
 * device has an adapter, WASM otherwise; the WASM binaries are served by the app itself (and precached by the
 * service worker), never fetched from a CDN.
 */
import type * as OrtModule from 'onnxruntime-web';
import asyncifyWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import jspiWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.jspi.wasm?url';
import { EngineError, type ErrorCode } from '../core/errors.ts';
import type { DeviceTensor, Feed, OnnxRuntime, OnnxSession, SessionSource, ValueInfo } from '../core/runtime.ts';
import type { Tensor } from '../core/tensor.ts';
import type { BlobFileStore } from '../engine/storage/variantStore.ts';

export type WebExecutionProvider = 'webgpu' | 'wasm';
type Ort = typeof OrtModule;

/** Whether this browser has JSPI (`WebAssembly.Suspending`), which onnxruntime-web's JSPI build needs. */
export const hasJspi = () => typeof (WebAssembly as { Suspending?: unknown }).Suspending === 'function';

/** Which onnxruntime-web build runs: `jspi` reads weights from Blobs; `asyncify` takes each file as bytes. */
export type OrtBuild = 'jspi' | 'asyncify';

let loaded: Promise<{ ort: Ort; build: OrtBuild }> | undefined;

/** onnxruntime-web, the JSPI build where the browser has JSPI (loaded once per worker). */
export function loadOrt(): Promise<{ ort: Ort; build: OrtBuild }> {
  loaded ??= (async () => {
    const jspi = hasJspi();
    const ort = (jspi ? await import('onnxruntime-web/jspi') : await import('onnxruntime-web/webgpu')) as Ort;
    ort.env.wasm.wasmPaths = { wasm: jspi ? jspiWasmUrl : asyncifyWasmUrl };
    ort.env.wasm.numThreads = self.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    ort.env.webgpu.powerPreference = 'high-performance';
    ort.env.logLevel = 'error';
    return { ort, build: jspi ? 'jspi' : 'asyncify' };
  })();
  return loaded;
}

function valueInfo(meta: readonly OrtModule.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));
}

/** A host tensor from onnxruntime-web's data (float16 as IEEE half bits, whatever array type it came in). */
function hostTensor(type: string, data: unknown, dims: readonly number[]): Tensor {
  if (type === 'float32' || type === 'float16' || type === 'int32' || type === 'int64') {
    const values = type === 'float16' && !(data instanceof Uint16Array) ? new Uint16Array((data as { buffer: ArrayBuffer }).buffer) : data;
    return { type, data: values, dims: [...dims] } as Tensor;
  }
  throw new TypeError(`unexpected output type ${type}`);
}

/** An output as host data: read back (and its GPU buffer freed) when it was left on the GPU. */
async function toHost(t: OrtModule.Tensor): Promise<Tensor> {
  return hostTensor(t.type, t.location === 'gpu-buffer' ? await t.getData(true) : t.data, t.dims);
}

/** The onnxruntime-web tensor behind each device tensor. */
const onDevice = new WeakMap<DeviceTensor, OrtModule.Tensor>();

function deviceTensor(t: OrtModule.Tensor): DeviceTensor {
  const d: DeviceTensor = { location: 'device', type: t.type as DeviceTensor['type'], dims: [...t.dims] };
  onDevice.set(d, t);
  return d;
}

/**
 * onnxruntime's status code (`OrtErrorCode` of its C API: 2 INVALID_ARGUMENT, 3 NO_SUCHFILE, 4 NO_MODEL,
 * 7 INVALID_PROTOBUF, 9 NOT_IMPLEMENTED, 10 INVALID_GRAPH, ...). onnxruntime-web reports it only inside the
 * error it throws, in the fixed form `ERROR_CODE: <n>, ERROR_MESSAGE: ...` (`checkLastError` in its wasm
 * bindings); this reads that number, never the wording.
 */
export function onnxruntimeStatus(error: unknown): number | undefined {
  const match = /\bERROR_CODE: (\d+),/.exec(String((error as Error)?.message ?? ''));
  return match ? Number(match[1]) : undefined;
}

/**
 * The code of a failure inside onnxruntime-web, decided where it is caught: a WebGPU out-of-memory error
 * (from an error scope) or an allocation failure of the wasm heap or of an ArrayBuffer (RangeError,
 * WebAssembly.RuntimeError) is `out_of_memory`; a lost device `device_lost`; then onnxruntime's status: no
 * kernel for an operator (NOT_IMPLEMENTED) is `unsupported_operator`, an unreadable model file
 * (NO_SUCHFILE, NO_MODEL, INVALID_PROTOBUF, INVALID_GRAPH) is `model_package`, and any other failure of the
 * runtime `session_error`.
 */
export function ortFailureCode(error: unknown, gpuError: GPUError | null, deviceLost: boolean): ErrorCode {
  if (deviceLost) return 'device_lost';
  if (gpuError && typeof GPUOutOfMemoryError !== 'undefined' && gpuError instanceof GPUOutOfMemoryError) return 'out_of_memory';
  if (error instanceof RangeError || error instanceof WebAssembly.RuntimeError) return 'out_of_memory';
  const status = onnxruntimeStatus(error);
  if (status === 9) return 'unsupported_operator';
  if (status === 3 || status === 4 || status === 7 || status === 10) return 'model_package';
  return 'session_error';
}

/**
 * @param onDeviceLost called when the GPU device goes away (driver reset, memory pressure); sessions are
 *   unusable afterwards.
 */
export async function createWebRuntime(executionProvider: WebExecutionProvider, onDeviceLost: (message: string) => void): Promise<OnnxRuntime & { build: OrtBuild }> {
  const { ort, build } = await loadOrt();
  let lost = false;
  /** onnxruntime's WebGPU device, known once the first session exists (it creates the device). */
  let gpuDevice: GPUDevice | undefined;
  const device = () => gpuDevice;

  /** Runs an onnxruntime call inside a WebGPU out-of-memory error scope; a failure gets its code here. */
  const guarded = async <T>(what: string, call: () => Promise<T>): Promise<T> => {
    const gpu = device();
    gpu?.pushErrorScope('out-of-memory');
    let result: T;
    try {
      result = await call();
    } catch (error) {
      const gpuError = (await gpu?.popErrorScope().catch(() => null)) ?? null;
      throw new EngineError(ortFailureCode(error, gpuError, lost), `${what}: ${(error as Error)?.message ?? String(error)}`);
    }
    const gpuError = (await gpu?.popErrorScope().catch(() => null)) ?? null;
    if (gpuError) throw new EngineError(ortFailureCode(undefined, gpuError, lost), `${what}: ${gpuError.message}`);
    return result;
  };

  const toOrt = (feeds: Record<string, Feed>) =>
    Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, 'location' in v ? onDevice.get(v)! : new ort.Tensor(v.type, v.data, [...v.dims])]));

  /**
   * Creates a session; on WebGPU, `gpuOutputs` leaves its outputs in GPU buffers (the UNet and the pipeline's
   * step graph), so `runOnDevice` chains them without a copy and `run` reads them back.
   */
  const open = async (component: string, model: Uint8Array, externalData: { path: string; data: Blob | Uint8Array }[], gpuOutputs: boolean): Promise<OnnxSession> => {
    const onGpu = gpuOutputs && executionProvider === 'webgpu';
    const session = await guarded(`creating the ${component} session`, () =>
      ort.InferenceSession.create(model, {
        executionProviders: [executionProvider],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        externalData,
        ...(onGpu ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
      }),
    );
    if (executionProvider === 'webgpu' && !gpuDevice) {
      gpuDevice = await Promise.resolve(ort.env.webgpu.device).catch(() => undefined);
      void gpuDevice?.lost.then((info) => {
        lost = true;
        onDeviceLost(`WebGPU device lost: ${info.reason} ${info.message}`);
      });
    }
    const runOrt = (feeds: Record<string, Feed>, outputNames?: readonly string[]) =>
      guarded(`running ${component}`, () => (outputNames ? session.run(toOrt(feeds), [...outputNames]) : session.run(toOrt(feeds))));
    return {
      inputs: valueInfo(session.inputMetadata),
      outputs: valueInfo(session.outputMetadata),
      async run(feeds, outputNames) {
        const result = await runOrt(feeds, outputNames);
        return Object.fromEntries(await Promise.all(Object.entries(result).map(async ([k, v]) => [k, await toHost(v as OrtModule.Tensor)] as const)));
      },
      ...(onGpu
        ? {
            async runOnDevice(feeds: Record<string, Feed>, outputNames: readonly string[]) {
              const result = await runOrt(feeds, outputNames);
              return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, deviceTensor(v as OrtModule.Tensor)]));
            },
          }
        : {}),
      release: () => session.release(),
    };
  };

  return {
    executionProvider,
    build,
    async createSession(source: SessionSource): Promise<OnnxSession> {
      const model = await source.store.readBytes(source.modelPath);
      const blobs = build === 'jspi' && 'readBlob' in source.store;
      const externalData = await Promise.all(
        source.externalData.map(async (path) => ({
          path: path.slice(path.lastIndexOf('/') + 1),
          data: blobs ? await (source.store as BlobFileStore).readBlob(path) : await source.store.readBytes(path),
        })),
      );
      return open(source.component, model, externalData, source.component === 'unet');
    },
    ...(executionProvider === 'webgpu'
      ? {
          device: {
            async upload(t: Tensor): Promise<DeviceTensor> {
              const gpu = gpuDevice;
              if (!gpu) throw new EngineError('session_error', 'no WebGPU device yet: create a session first');
              const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
              const size = Math.max(4, Math.ceil(bytes.length / 4) * 4);
              const buffer = gpu.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
              // writeBuffer copies whole 4-byte words: an odd-sized tensor (fp16 scalars) is padded with zeros
              const padded = size === bytes.length ? bytes : new Uint8Array(size);
              if (padded !== bytes) padded.set(bytes);
              gpu.queue.writeBuffer(buffer, 0, padded as Uint8Array<ArrayBuffer>);
              return deviceTensor(ort.Tensor.fromGpuBuffer(buffer, { dataType: t.type, dims: [...t.dims], dispose: () => buffer.destroy() }));
            },
            async download(d: DeviceTensor): Promise<Tensor> {
              const t = onDevice.get(d)!;
              return hostTensor(t.type, await t.getData(), t.dims);
            },
            dispose(d: DeviceTensor): void {
              onDevice.get(d)?.dispose();
              onDevice.delete(d);
            },
            createSessionFromModel: (name: string, model: Uint8Array) => open(name, model, [], true),
          },
        }
      : {}),
  };
}
