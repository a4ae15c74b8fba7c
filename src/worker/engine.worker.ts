/**
 * The generation worker (Comlink): probes WebGPU, downloads model packages into IndexedDB, and runs
 * the shared SDXL pipeline core on onnxruntime-web. Results and errors cross back as plain data with an
 * error code (class names do not survive postMessage).
 */
import * as Comlink from 'comlink';
import type { AdapterReport } from '../core/capabilities.ts';
import { describeError, EngineError, type ErrorInfo } from '../core/errors.ts';
import { LoadedSlot } from '../core/pipelines/loadedSlot.ts';
import { generate, loadSdxlPipeline, type SdxlPipeline } from '../core/pipelines/sdxl/index.ts';
import { parseGenerateRequest, type GenerateRequest } from '../core/request.ts';
import type { GenerateOutput, ProgressEvent } from '../core/types.ts';
import { ensureDownloaded, IndexedDbFileStore, loadManifest } from '../engine/modelCache.ts';
import { createWebRuntime, type WebExecutionProvider } from './ortWebRuntime.ts';
import { probeAdapter } from './probe.ts';

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** Events the worker reports during `generate`. */
export type WorkerEvent = ProgressEvent | { stage: 'download'; loaded: number; total: number };

const loaded = new LoadedSlot<SdxlPipeline>();
let deviceLost: string | undefined;
let adapter: Promise<AdapterReport> | undefined;

async function pipelineFor(modelId: string, ep: WebExecutionProvider, onEvent: (e: WorkerEvent) => void): Promise<SdxlPipeline> {
  if (deviceLost) {
    loaded.forget();
    deviceLost = undefined;
  }
  return loaded.get(`${modelId}|${ep}`, async () => {
    const manifest = await loadManifest(modelId);
    await ensureDownloaded(manifest, (done, total) => onEvent({ stage: 'download', loaded: done, total }));
    const runtime = createWebRuntime(ep, (message) => (deviceLost = message));
    return loadSdxlPipeline({ store: new IndexedDbFileStore(manifest), runtime, onProgress: onEvent });
  });
}

async function settle<T>(work: () => Promise<T>): Promise<WorkerResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const info = describeError(error);
    if (deviceLost && info.code !== 'invalid_request') return { ok: false, error: { code: 'device_lost', message: `${deviceLost} (${info.message})` } };
    return { ok: false, error: info };
  }
}

const api = {
  /** The WebGPU adapter report (asked once per worker). */
  probe(): Promise<AdapterReport> {
    adapter ??= probeAdapter();
    return adapter;
  },

  /** Downloads (if needed) and loads the model, without generating. */
  prepare(modelId: string, ep: WebExecutionProvider, onEvent: (e: WorkerEvent) => void): Promise<WorkerResult<void>> {
    return settle(async () => {
      await pipelineFor(modelId, ep, onEvent);
    });
  },

  /**
   * Generates `request` on this device. The request is validated again here (the worker trusts no caller).
   * @returns the PNG and metadata, or an error code and message.
   */
  generate(request: GenerateRequest, ep: WebExecutionProvider, onEvent: (e: WorkerEvent) => void): Promise<WorkerResult<Omit<GenerateOutput, 'rgba'>>> {
    return settle(async () => {
      const valid = parseGenerateRequest(request);
      if (!valid.model) throw new EngineError('invalid_request', 'model: required on this device', [{ field: 'model', message: 'required' }]);
      const pipeline = await pipelineFor(valid.model, ep, onEvent);
      const { rgba: _rgba, ...out } = await generate(pipeline, valid, { onProgress: onEvent, now: () => performance.now() });
      return Comlink.transfer(out, [out.png.buffer as ArrayBuffer]);
    });
  },
};

export type WorkerApi = typeof api;
Comlink.expose(api);
