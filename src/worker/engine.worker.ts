/**
 * The generation worker (Comlink): probes WebGPU, keeps model files in IndexedDB (verified, resumable,
 * content-addressed) or in memory when nothing can be kept, and runs the shared SDXL pipeline core on
 * onnxruntime-web. Results and errors cross back as plain data with an error code (class names do not survive
 * postMessage).
 */
import * as Comlink from 'comlink';
import type { AdapterReport, DeviceProvider, Residency } from '../core/capabilities.ts';
import { describeError, EngineError, type ErrorInfo } from '../core/errors.ts';
import { manifestVariant, type ManifestVariant, type ModelManifest } from '../core/loading/manifest.ts';
import { LoadedSlot } from '../core/pipelines/loadedSlot.ts';
import { generate, loadSdxlPipeline, type SdxlPipeline } from '../core/pipelines/sdxl/index.ts';
import { parseGenerateRequest, type GenerateRequest } from '../core/request.ts';
import type { GenerateOutput, ProgressEvent } from '../core/types.ts';
import { deviceRecord, dropLegacyKeys, storedFile } from '../engine/storage/blobStore.ts';
import { downloadVariant, downloadVariantToMemory, loadManifest, recordFailure, removeModel, storageAvailable, storedBytesByVariant, verifyVariant } from '../engine/storage/modelFiles.ts';
import { probeStorage } from '../engine/storage/probeStorage.ts';
import { MemoryVariantFiles, StoredVariantFiles, type BlobFileStore } from '../engine/storage/variantStore.ts';
import { createWebRuntime, loadOrt, type OrtBuild, type WebExecutionProvider } from './ortWebRuntime.ts';
import { probeAdapter } from './probe.ts';

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** Events the worker reports: model download bytes (at most ten a second), then the pipeline's. */
export type WorkerEvent = ProgressEvent | { stage: 'download'; loaded: number; total: number; variant: string };

/** What the page needs to choose a route for a model on this device. */
export interface ModelState {
  manifest: ModelManifest;
  /** False in a private window (or without IndexedDB): the model is downloaded into memory each visit. */
  canCache: boolean;
  storageAvailableBytes?: number;
  storedBytes: Record<string, number>;
  failed: Record<string, string>;
  /** onnxruntime-web build in use: `jspi` reads weights from Blobs; `asyncify` holds each file in memory while loading. */
  build: OrtBuild;
}

/** How the page asks the worker to run a request. */
export interface DevicePlan {
  variant: string;
  executionProvider: DeviceProvider;
  residency: Residency;
  /** Largest VAE activation, bytes: the VAE decodes in tiles under it. */
  vaeCapBytes: number;
}

const MODELS_URL = '/models';
const loaded = new LoadedSlot<SdxlPipeline & { storage: 'indexeddb' | 'memory' }>();
const inMemory = new Map<string, MemoryVariantFiles>();
let deviceLost: string | undefined;
let adapter: Promise<AdapterReport> | undefined;
let storageReady: Promise<boolean> | undefined;
/** Generations running here, by the caller's id, so `cancel(id)` can stop one between steps. */
const running = new Map<string, AbortController>();

/** Whether IndexedDB works here (once per worker); legacy keys are dropped on the way. */
const canUseStorage = () => (storageReady ??= probeStorage().then(async (ok) => (ok ? (await dropLegacyKeys().catch(() => undefined), true) : false)));

/** IndexedDB refused a write for lack of room during this page's life (a private window's quota, a full disk). */
let storageFull = false;

/** Whether this device can keep `variant` of `manifest`: storage works and the quota holds what is missing. */
async function canCache(manifest: ModelManifest, variant?: ManifestVariant): Promise<boolean> {
  if (storageFull || !(await canUseStorage())) return false;
  const available = await storageAvailable();
  if (available === undefined) return true;
  const stored = await storedBytesByVariant(manifest);
  const needs = (v: ManifestVariant) => v.needs.downloadBytes - (stored[v.name] ?? 0);
  return variant ? needs(variant) <= available : manifest.variants.some((v) => needs(v) <= available);
}

/**
 * The variant's files, downloaded first into IndexedDB, or into memory for this page when nothing can be kept.
 * A small model whose download runs out of storage continues in memory (it costs megabytes); a full-size one
 * fails with `storage_full`, for the server route.
 */
async function variantStore(manifest: ModelManifest, variant: ManifestVariant, onEvent: (e: WorkerEvent) => void, signal?: AbortSignal): Promise<BlobFileStore> {
  const onProgress = (loaded: number, total: number) => onEvent({ stage: 'download', loaded, total, variant: variant.name });
  if (await canCache(manifest, variant)) {
    try {
      await downloadVariant(manifest, variant, { baseUrl: MODELS_URL, onProgress, ...(signal ? { signal } : {}) });
      return new StoredVariantFiles(manifest, variant);
    } catch (error) {
      if (describeError(error).code !== 'storage_full' || manifest.realSize) throw error;
      storageFull = true;
    }
  }
  const key = `${manifest.id}|${manifest.version}|${variant.name}`;
  let memory = inMemory.get(key);
  if (!memory) inMemory.set(key, (memory = new MemoryVariantFiles(manifest, variant)));
  await downloadVariantToMemory(manifest, variant, memory, { baseUrl: MODELS_URL, onProgress, ...(signal ? { signal } : {}) });
  return memory;
}

/** Another variant of the package whose VAE decoder is float32 and stored here, to retry an fp16 VAE's NaN. */
async function fp32VaeStore(manifest: ModelManifest, variant: ManifestVariant): Promise<BlobFileStore | undefined> {
  if (variant.components.vae_decoder?.dtype !== 'float16') return undefined;
  for (const other of manifest.variants) {
    const vae = other.components.vae_decoder;
    if (other === variant || vae?.dtype !== 'float32') continue;
    const paths = [vae.model, ...vae.externalData];
    const records = await Promise.all(paths.map((p) => storedFile(manifest.files.find((f) => f.path === p)!.sha256)));
    if (records.every((r) => r?.complete)) return new StoredVariantFiles(manifest, other);
  }
  return undefined;
}

async function pipelineFor(modelId: string, plan: DevicePlan, onEvent: (e: WorkerEvent) => void, signal?: AbortSignal): Promise<SdxlPipeline & { storage: 'indexeddb' | 'memory' }> {
  if (deviceLost) {
    loaded.forget();
    deviceLost = undefined;
  }
  return loaded.get(`${modelId}|${plan.variant}|${plan.executionProvider}|${plan.residency}`, async () => {
    const manifest = await loadManifest(modelId, MODELS_URL);
    const variant = manifestVariant(manifest, plan.variant);
    const store = await variantStore(manifest, variant, onEvent, signal);
    const runtime = await createWebRuntime(plan.executionProvider as WebExecutionProvider, (message) => (deviceLost = message));
    const storage = store instanceof StoredVariantFiles ? ('indexeddb' as const) : ('memory' as const);
    const load = async () =>
      Object.assign(await loadSdxlPipeline({ store, runtime, residency: plan.residency, fp32VaeStore: await fp32VaeStore(manifest, variant), onProgress: onEvent, now: () => performance.now() }), { storage });
    try {
      return await load();
    } catch (error) {
      // a stored file that does not parse may have been damaged at rest: re-check it chunk by chunk, then try once more
      if (describeError(error).code !== 'model_package' || !(store instanceof StoredVariantFiles)) throw error;
      if ((await verifyVariant(manifest, variant, MODELS_URL)) === 0) throw error;
      return load();
    }
  });
}

async function settle<T>(work: () => Promise<T>): Promise<WorkerResult<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    const info = describeError(error);
    if (deviceLost && info.code !== 'invalid_request' && info.code !== 'cancelled') return { ok: false, error: { code: 'device_lost', message: `${deviceLost} (${info.message})` } };
    return { ok: false, error: info };
  }
}

const api = {
  /** The WebGPU adapter report (asked once per worker). */
  probe(): Promise<AdapterReport> {
    adapter ??= probeAdapter();
    return adapter;
  },

  /** The model's manifest (the server's when online) and what this device has of it. */
  modelState(modelId: string): Promise<WorkerResult<ModelState>> {
    return settle(async () => {
      const manifest = await loadManifest(modelId, MODELS_URL);
      const usable = await canUseStorage();
      const [storedBytes, record, available, { build }] = await Promise.all([
        usable ? storedBytesByVariant(manifest) : Promise.resolve({}),
        usable ? deviceRecord(modelId) : Promise.resolve({ failed: {} }),
        storageAvailable(),
        loadOrt(),
      ]);
      return { manifest, canCache: await canCache(manifest), storageAvailableBytes: available, storedBytes, failed: record.failed, build };
    });
  },

  /** Downloads (or finishes downloading) `variant` into IndexedDB without generating. */
  download(modelId: string, variant: string, onEvent: (e: WorkerEvent) => void): Promise<WorkerResult<void>> {
    return settle(async () => {
      const manifest = await loadManifest(modelId, MODELS_URL);
      if (!(await canUseStorage())) throw new EngineError('storage', 'this browser window cannot keep files (a private window?)');
      await downloadVariant(manifest, manifestVariant(manifest, variant), { baseUrl: MODELS_URL, onProgress: (loaded, total) => onEvent({ stage: 'download', loaded, total, variant }) });
    });
  },

  /** Re-checks the stored files of `variant` chunk by chunk; returns how many chunks were fetched again. */
  verify(modelId: string, variant: string): Promise<WorkerResult<{ repaired: number }>> {
    return settle(async () => {
      const manifest = await loadManifest(modelId, MODELS_URL);
      return { repaired: await verifyVariant(manifest, manifestVariant(manifest, variant), MODELS_URL) };
    });
  },

  /** Remembers that `variant` failed to load here (with the reason), so the next choice skips it. */
  recordFailure(modelId: string, variant: string, reason: string): Promise<WorkerResult<void>> {
    return settle(() => recordFailure(modelId, variant, reason));
  },

  /**
   * Generates `request` on this device with `plan`. The request is validated again here (the worker trusts no caller).
   * @param id the caller's name for this generation, for `cancel(id)` (an AbortSignal cannot cross postMessage).
   * @returns the PNG and metadata, or an error code and message: `cancelled` when `cancel(id)` came first (the
   *   model download stops at once, keeping its verified chunks; the pipeline stops before its next stage or step).
   */
  generate(request: GenerateRequest, plan: DevicePlan, onEvent: (e: WorkerEvent) => void, id?: string): Promise<WorkerResult<Omit<GenerateOutput, 'rgba'> & { storage: 'indexeddb' | 'memory' }>> {
    const controller = new AbortController();
    if (id !== undefined) running.set(id, controller);
    const { signal } = controller;
    return settle(async () => {
      const valid = parseGenerateRequest(request);
      if (!valid.model) throw new EngineError('invalid_request', 'model: required on this device', [{ field: 'model', message: 'required' }]);
      const pipeline = await pipelineFor(valid.model, plan, onEvent, signal);
      const { rgba: _rgba, ...out } = await generate(pipeline, valid, { onProgress: onEvent, signal, now: () => performance.now(), maxBufferBytes: plan.vaeCapBytes });
      return Comlink.transfer({ ...out, storage: pipeline.storage }, [out.png.buffer as ArrayBuffer]);
    }).finally(() => {
      if (id !== undefined && running.get(id) === controller) running.delete(id);
    });
  },

  /** Stops the generation the caller named `id` (between steps); nothing happens when none by that id runs. */
  cancel(id: string): void {
    running.get(id)?.abort();
  },

  /** Frees what `modelId` takes on this device (files another model uses stay). */
  remove(modelId: string): Promise<WorkerResult<void>> {
    return settle(async () => {
      await loaded.release();
      for (const key of inMemory.keys()) if (key.startsWith(`${modelId}|`)) inMemory.delete(key);
      await removeModel(modelId);
    });
  },
};

export type WorkerApi = typeof api;
Comlink.expose(api);
