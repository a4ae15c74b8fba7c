/**
 * The scale bench's worker: the app's own storage, runtime and pipeline modules, timed step by step
 * (download into IndexedDB, raw reads, session creation from IndexedDB, a generation), plus IndexedDB's
 * own write and read throughput for 16 MiB ArrayBuffer values.
 */
import * as Comlink from 'comlink';
import { clear, createStore, get, set } from 'idb-keyval';
import { manifestVariant, variantFiles } from '../../src/core/loading/manifest.ts';
import { generate, loadSdxlPipeline } from '../../src/core/pipelines/sdxl/index.ts';
import { parseGenerateRequest } from '../../src/core/request.ts';
import type { Residency } from '../../src/core/capabilities.ts';
import { readChunk, storedFile } from '../../src/engine/storage/blobStore.ts';
import { downloadVariant, loadManifest } from '../../src/engine/storage/modelFiles.ts';
import { StoredVariantFiles } from '../../src/engine/storage/variantStore.ts';
import { createWebRuntime, type WebExecutionProvider } from '../../src/worker/ortWebRuntime.ts';

const MODELS = '/models';
const ms = (since: number) => performance.now() - since;

const api = {
  /** IndexedDB throughput: `mib` MiB written as 16 MiB ArrayBuffers, then read back, MB/s. */
  async idbThroughput(mib: number): Promise<{ writeMBps: number; readMBps: number }> {
    const store = createStore('ad-studio-bench', 'chunks');
    await clear(store);
    const chunk = new Uint8Array(16 * 1024 * 1024).map((_, i) => i * 31);
    const count = Math.ceil(mib / 16);
    let t = performance.now();
    for (let i = 0; i < count; i++) await set(i, chunk.slice().buffer, store);
    const write = ms(t);
    t = performance.now();
    let bytes = 0;
    for (let i = 0; i < count; i++) bytes += (await get<ArrayBuffer>(i, store))!.byteLength;
    const read = ms(t);
    await clear(store);
    return { writeMBps: (count * chunk.length) / 1e3 / write, readMBps: bytes / 1e3 / read };
  },

  /** Downloads `variant` into IndexedDB through the app's verified, resumable path. */
  async download(modelId: string, variant: string): Promise<{ ms: number; bytes: number }> {
    const manifest = await loadManifest(modelId, MODELS);
    const t = performance.now();
    let bytes = 0;
    await downloadVariant(manifest, manifestVariant(manifest, variant), { baseUrl: MODELS, onProgress: (loaded) => (bytes = loaded) });
    return { ms: ms(t), bytes };
  },

  /** Reads every chunk of the variant's stored files (as the app does to build its Blobs) and drops them. */
  async rawRead(modelId: string, variant: string): Promise<{ ms: number; bytes: number }> {
    const manifest = await loadManifest(modelId, MODELS);
    const t = performance.now();
    let bytes = 0;
    for (const file of variantFiles(manifest, manifestVariant(manifest, variant))) {
      const record = (await storedFile(file.sha256))!;
      for (let i = 0; i < record.chunks && file.size > 0; i++) bytes += (await readChunk(file.sha256, i)).byteLength;
    }
    return { ms: ms(t), bytes };
  },

  /** Creates every component's session from IndexedDB, one at a time (each released before the next). */
  async warmStart(modelId: string, variant: string, ep: WebExecutionProvider): Promise<{ ms: number; perComponent: Record<string, number>; build: string }> {
    const manifest = await loadManifest(modelId, MODELS);
    const v = manifestVariant(manifest, variant);
    const store = new StoredVariantFiles(manifest, v);
    const runtime = await createWebRuntime(ep, () => undefined);
    const perComponent: Record<string, number> = {};
    const t = performance.now();
    for (const [component, files] of Object.entries(v.components)) {
      const root = v.root ? `${v.root}/` : '';
      const started = performance.now();
      const session = await runtime.createSession({ component, store, modelPath: files.model.slice(root.length), externalData: files.externalData.map((p) => p.slice(root.length)) });
      perComponent[component] = ms(started);
      await session.release();
    }
    return { ms: ms(t), perComponent, build: runtime.build };
  },

  /** One generation from IndexedDB: pipeline load (configs, tokenizers, sessions as `residency` says) and run. */
  async generate(modelId: string, variant: string, ep: WebExecutionProvider, request: Record<string, unknown>, residency: Residency): Promise<{ loadMs: number; totalMs: number; timings: Record<string, number> }> {
    const manifest = await loadManifest(modelId, MODELS);
    const store = new StoredVariantFiles(manifest, manifestVariant(manifest, variant));
    const runtime = await createWebRuntime(ep, () => undefined);
    const t = performance.now();
    const pipe = await loadSdxlPipeline({ store, runtime, residency, now: () => performance.now() });
    const loadMs = ms(t);
    try {
      const out = await generate(pipe, parseGenerateRequest({ ...request, model: modelId }), { now: () => performance.now() });
      return { loadMs, totalMs: ms(t), timings: { ...out.timings } };
    } finally {
      await pipe.release();
    }
  },
};

export type BenchApi = typeof api;
Comlink.expose(api);
