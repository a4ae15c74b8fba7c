/**
 * Model packages on this device: manifests (kept, and replaced when the server's changes), variant
 * downloads into IndexedDB (checked against the storage quota first) or into memory when nothing can be kept,
 * what is stored of each variant, and removal with clean-up of files no other model uses.
 */
import { createSHA256 } from 'hash-wasm';
import { delMany, get, keys, set } from 'idb-keyval';
import { EngineError } from '../../core/errors.ts';
import { variantFiles, type ManifestFile, type ManifestVariant, type ModelManifest } from '../../core/loading/manifest.ts';
import { db, deleteFiles, deviceRecord, idb, putDeviceRecord, storedFiles } from './blobStore.ts';
import { downloadFile, fetchChunk, verifyFile } from './download.ts';
import type { MemoryVariantFiles } from './variantStore.ts';

const GB = 1e9;
const gb = (bytes: number) => `${(bytes / GB).toFixed(bytes < GB ? 2 : 1)} GB`;

export const storedManifest = (id: string) => idb('read', () => get<ModelManifest>(`manifest/${id}`, db()));

/**
 * The model's manifest: the server's when it answers (replacing a stored copy that no longer matches, so
 * changed files download again and unchanged ones stay), the stored one when offline.
 * @throws EngineError `model_download` when it is neither stored nor reachable.
 */
export async function loadManifest(id: string, baseUrl: string): Promise<ModelManifest> {
  const stored = await storedManifest(id).catch(() => undefined);
  let response: Response | undefined;
  try {
    response = await fetch(`${baseUrl}/${id}/manifest.json`, { cache: 'no-cache' });
  } catch (error) {
    if (stored) return stored;
    throw new EngineError('model_download', `cannot reach the server for model "${id}" (${(error as Error).message})`);
  }
  if (!response.ok) {
    if (stored && response.status >= 500) return stored;
    throw new EngineError('model_download', `model "${id}" manifest: HTTP ${response.status}`);
  }
  const fresh = (await response.json()) as ModelManifest;
  if (fresh.schema !== 2) throw new EngineError('model_package', `model "${id}": manifest schema ${String(fresh.schema)} is not supported by this app`);
  if (stored && stored.version !== fresh.version) {
    await idb('write', () => set(`manifest/${id}`, fresh, db()));
    await collectGarbage();
  }
  return fresh;
}

/** Keeps the manifest, so the model works offline. */
export const keepManifest = (manifest: ModelManifest) => idb('write', () => set(`manifest/${manifest.id}`, manifest, db()));

/** Bytes of each variant's files that are stored and verified (completely or in leading chunks). */
export async function storedBytesByVariant(manifest: ModelManifest): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const variant of manifest.variants) {
    const files = variantFiles(manifest, variant);
    const records = await storedFiles(files.map((f) => f.sha256));
    out[variant.name] = files.reduce((n, f, i) => {
      const r = records[i];
      return n + (r?.complete ? f.size : r && r.chunkBytes === manifest.chunkBytes ? Math.min(r.verified * r.chunkBytes, f.size) : 0);
    }, 0);
  }
  return out;
}

/** Storage the origin may still use, bytes (`quota - usage`); undefined when the browser does not say. */
export async function storageAvailable(): Promise<number | undefined> {
  const estimate = await navigator.storage?.estimate?.().catch(() => undefined);
  return estimate?.quota === undefined ? undefined : Math.max(0, estimate.quota - (estimate.usage ?? 0));
}

/** Calls `emit` at most every `ms` milliseconds, and always with the last value when `flush` is called. */
export function throttled(emit: (loaded: number, total: number) => void, ms = 100): { update: (loaded: number, total: number) => void; flush: () => void } {
  let last = -Infinity;
  let pending: [number, number] | undefined;
  return {
    update(loaded, total) {
      pending = [loaded, total];
      const now = performance.now();
      if (now - last >= ms) {
        last = now;
        emit(loaded, total);
        pending = undefined;
      }
    },
    flush() {
      if (pending) emit(...pending);
      pending = undefined;
    },
  };
}

const inflight = new Map<string, Promise<void>>();

/**
 * Downloads what is missing of `variant` into IndexedDB, each file once even if asked twice at the same time.
 * @param onProgress stored bytes of the variant and its total, at most ten times a second.
 * @throws EngineError `storage_full` before starting when the quota cannot hold what is missing (or when a write
 *   hits it), `model_download`, `storage`; what was verified stays for the next attempt.
 */
export async function downloadVariant(
  manifest: ModelManifest,
  variant: ManifestVariant,
  options: { baseUrl: string; onProgress: (loaded: number, total: number) => void; signal?: AbortSignal },
): Promise<void> {
  const files = variantFiles(manifest, variant);
  const total = files.reduce((n, f) => n + f.size, 0);
  const stored = (await storedBytesByVariant(manifest))[variant.name] ?? 0;
  const available = await storageAvailable();
  if (available !== undefined && total - stored > available) {
    throw new EngineError('storage_full', `the ${variant.name} model needs ${gb(total - stored)} more storage; this browser allows this site ${gb(available)}`);
  }
  // kept first: a manifest being downloaded protects its files from another model's clean-up
  await keepManifest(manifest);
  const progress = throttled(options.onProgress);
  const records = await storedFiles(files.map((f) => f.sha256));
  let loaded = files.reduce((n, f, i) => n + (records[i]?.complete ? f.size : 0), 0);
  progress.update(loaded, total);
  for (const [i, file] of files.entries()) {
    if (records[i]?.complete) continue;
    let job = inflight.get(file.sha256);
    if (!job) {
      job = downloadFile(file, { chunkBytes: manifest.chunkBytes, baseUrl: options.baseUrl, signal: options.signal, onBytes: (n) => progress.update((loaded += n), total) });
      inflight.set(file.sha256, job);
      void job.catch(() => undefined).finally(() => inflight.delete(file.sha256));
    } else {
      await job;
      progress.update((loaded += file.size), total);
      continue;
    }
    await job;
  }
  progress.flush();
}

/**
 * Re-checks the stored files of `variant` chunk by chunk, re-fetching only chunks that fail their hash.
 * @returns how many chunks were repaired.
 */
export async function verifyVariant(manifest: ModelManifest, variant: ManifestVariant, baseUrl: string): Promise<number> {
  let repaired = 0;
  for (const file of variantFiles(manifest, variant)) repaired += (await verifyFile(file, { baseUrl })).length;
  return repaired;
}

/**
 * Downloads `variant` into memory (a private window keeps nothing), checking every chunk and every file like
 * the stored path; each chunk goes into blob storage as it is checked.
 */
export async function downloadVariantToMemory(
  manifest: ModelManifest,
  variant: ManifestVariant,
  target: MemoryVariantFiles,
  options: { baseUrl: string; onProgress: (loaded: number, total: number) => void; signal?: AbortSignal },
): Promise<void> {
  const files = variantFiles(manifest, variant);
  const total = files.reduce((n, f) => n + f.size, 0);
  const progress = throttled(options.onProgress);
  let loaded = 0;
  for (const file of files) {
    if (!target.has(file.sha256)) target.put(file.sha256, await fetchVerifiedBlob(file, manifest.chunkBytes, options.baseUrl, options.signal));
    progress.update((loaded += file.size), total);
  }
  progress.flush();
}

async function fetchVerifiedBlob(file: ManifestFile, chunkBytes: number, baseUrl: string, signal?: AbortSignal): Promise<Blob> {
  const check = await createSHA256();
  const whole = await createSHA256();
  whole.init();
  const parts: Blob[] = [];
  for (let i = 0; i < file.chunks.length; i++) {
    const bytes = file.size === 0 ? new Uint8Array(0) : await fetchChunk(file, chunkBytes, i, baseUrl, check, signal);
    whole.update(bytes);
    parts.push(new Blob([bytes as Uint8Array<ArrayBuffer>]));
  }
  if (whole.digest('hex') !== file.sha256) throw new EngineError('model_download', `${file.path}: SHA-256 does not match the manifest`);
  return new Blob(parts);
}

/** Remembers that `variant` failed to load here, so the next choice skips it. */
export async function recordFailure(id: string, variant: string, reason: string): Promise<void> {
  const record = await deviceRecord(id);
  await putDeviceRecord(id, { ...record, failed: { ...record.failed, [variant]: reason } });
}

/** Removes a model's manifest and device record, and every stored file no other kept model uses. */
export async function removeModel(id: string): Promise<void> {
  await idb('delete', () => delMany([`manifest/${id}`, `device/${id}`], db()));
  await collectGarbage();
}

/** Deletes stored files that no kept manifest lists (a model being downloaded keeps its manifest from the start). */
async function collectGarbage(): Promise<void> {
  const all = (await idb('read', () => keys(db()))).map(String);
  const manifests = await Promise.all(all.filter((k) => k.startsWith('manifest/')).map((k) => idb('read', () => get<ModelManifest>(k, db()))));
  const used = new Set(manifests.flatMap((m) => m?.files.map((f) => f.sha256) ?? []));
  const stored = all.filter((k) => k.startsWith('file/')).map((k) => k.slice('file/'.length));
  await deleteFiles(stored.filter((sha) => !used.has(sha)));
}
