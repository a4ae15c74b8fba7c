/**
 * The generation worker (Comlink): probes WebGPU, keeps model files in IndexedDB (verified, resumable,
 * content-addressed) or in memory when nothing can be kept, and runs the ad workflow (`src/core/workflow`:
 * prompt, the shared SDXL pipeline core on onnxruntime-web, the copy overlay with resvg-wasm, PNG export). Results and errors cross back as plain data with an error code (class names do not survive
 * postMessage).
 */
import * as Comlink from 'comlink';
import type { AdapterReport, DeviceProvider, Residency } from '../core/capabilities.ts';
import { describeError, EngineError, type ErrorInfo } from '../core/errors.ts';
import { manifestVariant, type ManifestVariant, type ModelManifest } from '../core/loading/manifest.ts';
import { LoadedSlot } from '../core/pipelines/loadedSlot.ts';
import { encodePng } from '../core/image/png.ts';
import { latentsToPreviewPng } from '../core/image/latentPreview.ts';
import type { RenderOptions } from '../core/overlay/index.ts';
import { generateRgba, loadSdxlPipeline, type SdxlPipeline } from '../core/pipelines/sdxl/index.ts';
import { DEFAULT_STRENGTH, imageToImageSteps, parseGenerateRequest, type GenerateRequest } from '../core/request.ts';
import type { GenerateOutput, ProgressEvent } from '../core/types.ts';
import { runAdWorkflow, type NodeRecord } from '../core/workflow/index.ts';
import { deviceRecord, dropLegacyKeys, storedFile } from '../engine/storage/blobStore.ts';
import { downloadVariant, downloadVariantToMemory, loadManifest, recordFailure, removeModel, storageAvailable, storedBytesByVariant, verifyVariant } from '../engine/storage/modelFiles.ts';
import { probeStorage } from '../engine/storage/probeStorage.ts';
import { MemoryVariantFiles, StoredVariantFiles, type BlobFileStore } from '../engine/storage/variantStore.ts';
import { createWebRuntime, loadOrt, type OrtBuild, type WebExecutionProvider } from './ortWebRuntime.ts';
import { probeAdapter } from './probe.ts';
import type { TextTranslator } from '../core/prompt/index.ts';
import { MarianTranslator } from '../core/translation/marian.ts';

export type WorkerResult<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/**
 * Events the worker reports: model download bytes (at most ten a second), then the workflow's (the pipeline's
 * stages, `layout` before the copy is laid), and latent previews (`url`: a small PNG as a data: URL, made after
 * denoising step `step`).
 */
export type WorkerEvent = ProgressEvent | { stage: 'download'; loaded: number; total: number; variant: string } | { stage: 'preview'; url: string; step: number };

/** What a generation on this device gives back: the final PNG, the raw one without the copy when copy was laid, the nodes. */
export type DeviceOutput = Omit<GenerateOutput, 'rgba'> & {
  storage: 'indexeddb' | 'memory';
  /** The ad workflow's nodes (prompt, txt2img | img2img, layout, export). */
  nodes: NodeRecord[];
  /** The picture without the ad copy, as a PNG; only when the layout node applied copy. */
  rawPng?: Uint8Array;
};

/** At most this many previews a run, and never more often than every MIN_PREVIEW_EVERY steps (each reads latents back). */
const PREVIEWS_PER_RUN = 8;
const MIN_PREVIEW_EVERY = 2;

/** Denoising steps between previews for a request: every 2 steps or about 8 a run, whichever gives fewer. */
export function previewEvery(request: GenerateRequest): number {
  const steps = request.image ? imageToImageSteps(request.num_inference_steps, request.strength ?? DEFAULT_STRENGTH) : request.num_inference_steps;
  return Math.max(MIN_PREVIEW_EVERY, Math.ceil(steps / PREVIEWS_PER_RUN));
}

/** Bytes as base64 (btoa over a binary string, in chunks so no argument list gets too long). */
function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The overlay's fonts and resvg-wasm, imported and fetched only when a request has copy to lay out. */
async function overlayAssets(): Promise<RenderOptions> {
  const { loadOverlayFonts, browserRasteriser } = await import('../engine/overlay/index.ts');
  const [fonts, rasterise] = await Promise.all([loadOverlayFonts(), browserRasteriser()]);
  return { fonts, rasterise };
}

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
  /**
   * The server's registered Korean -> English translation package (`GET /api/models` `translation_model`): Korean
   * `ad.text` is translated with it here (downloaded and kept like a checkpoint); absent: the glossary translates.
   */
  translationModel?: string;
}

const MODELS_URL = '/models';
const loaded = new LoadedSlot<SdxlPipeline & { storage: 'indexeddb' | 'memory' }>();
const translation = new LoadedSlot<MarianTranslator>();
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

/**
 * The translation model `id` for the prompt node: its package downloaded (IndexedDB, or memory in a private
 * window; the stored manifest offline) and loaded once per version on WASM (an int8 export's MatMulInteger is not in
 * onnxruntime-web's WebGPU provider), translating under the generation's `signal`.
 * @throws EngineError `model_download` / `storage_full` / `model_package`, or the runtime's, from loading it.
 */
async function translatorFor(id: string, onEvent: (e: WorkerEvent) => void, signal: AbortSignal): Promise<TextTranslator> {
  const manifest = await loadManifest(id, MODELS_URL);
  const variant = manifest.variants[0];
  if (manifest.pipeline !== 'MarianMTModel' || !variant) throw new EngineError('model_package', `model "${id}" is not a translation package (pipeline ${manifest.pipeline})`);
  const model = await translation.get(`${id}|${manifest.version}`, async () =>
    MarianTranslator.load(await variantStore(manifest, variant, onEvent, signal), await createWebRuntime('wasm', () => undefined), id),
  );
  return { id, translate: async (text) => (await model.translate(text, { signal, now: () => performance.now() })).text };
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
   * Runs `request` through the ad workflow on this device with `plan`: prompt (built from `ad.text` when there is
   * no `prompt`), SDXL (the model is downloaded and loaded inside this node), the copy laid over the picture when
   * the request has copy (after a `layout` event), PNG export. Latent previews are sent every few steps. The
   * request is validated again here (the worker trusts no caller).
   * @param id the caller's name for this generation, for `cancel(id)` (an AbortSignal cannot cross postMessage).
   * @returns the PNG (and the raw PNG without the copy), the node records and metadata, or an error code and
   *   message: `cancelled` when `cancel(id)` came first (the model download stops at once, keeping its verified
   *   chunks; the pipeline stops before its next stage or step).
   */
  generate(request: GenerateRequest, plan: DevicePlan, onEvent: (e: WorkerEvent) => void, id?: string): Promise<WorkerResult<DeviceOutput>> {
    const controller = new AbortController();
    if (id !== undefined) running.set(id, controller);
    const { signal } = controller;
    return settle(async () => {
      const valid = parseGenerateRequest(request);
      if (!valid.model) throw new EngineError('invalid_request', 'model: required on this device', [{ field: 'model', message: 'required' }]);
      const model = valid.model;
      let storage: DeviceOutput['storage'] = 'memory';
      const now = () => performance.now();
      const every = previewEvery(valid);
      const out = await runAdWorkflow(
        valid,
        {
          generate: async (resolved) => {
            const pipeline = await pipelineFor(model, plan, onEvent, signal);
            storage = pipeline.storage;
            return generateRgba(pipeline, resolved, {
              onProgress: onEvent,
              signal,
              now,
              maxBufferBytes: plan.vaeCapBytes,
              preview: { every, onLatents: (latents, step) => onEvent({ stage: 'preview', url: `data:image/png;base64,${base64(latentsToPreviewPng(latents))}`, step }) },
            });
          },
          overlay: overlayAssets,
          encodePng: (image) => encodePng(image.data, image.width, image.height),
          ...(plan.translationModel ? { translator: () => translatorFor(plan.translationModel!, onEvent, signal) } : {}),
        },
        { signal, now, onProgress: onEvent },
      );
      const result: DeviceOutput = { ...out.generation, png: out.png, width: out.width, height: out.height, storage, nodes: out.nodes, ...(out.rawPng ? { rawPng: out.rawPng } : {}) };
      return Comlink.transfer(result, [out.png.buffer as ArrayBuffer, ...(out.rawPng ? [out.rawPng.buffer as ArrayBuffer] : [])]);
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
