/**
 * Model packages kept in IndexedDB (idb-keyval), shared by the page (manifests, for routing) and the
 * worker (weights). Values are ArrayBuffers, never Blobs: Blobs stored in IndexedDB fail to read back in
 * some contexts (incognito: NotReadableError). Files are split in chunks so no single value is huge.
 *
 * Keys: `<id>/manifest` -> ModelManifest; `<id>/file/<path>` -> StoredFile (written last, so a file
 * counts as present only when all its chunks are); `<id>/chunk/<path>/<i>` -> ArrayBuffer.
 */
import { createStore, del, delMany, get, getMany, keys, set, type UseStore } from 'idb-keyval';
import { ModelFileMissingError, type FileStore } from '../core/loading/fileStore.ts';
import type { ModelManifest } from '../core/loading/manifest.ts';
import { EngineError } from '../core/errors.ts';

/** A downloaded file: which content it holds and how many chunks. */
interface StoredFile {
  sha256: string;
  size: number;
  chunks: number;
}

/** Largest chunk stored as one IndexedDB value, bytes. */
export const CHUNK_BYTES = 16 * 1024 * 1024;

let store: UseStore | undefined;
const db = () => (store ??= createStore('ad-studio-models', 'files'));

function storageError(action: string, error: unknown): EngineError {
  return new EngineError('storage', `IndexedDB ${action} failed: ${(error as Error)?.message ?? error}`);
}

/** The manifest saved with the model, or undefined when the model was never downloaded. */
export async function cachedManifest(id: string): Promise<ModelManifest | undefined> {
  return get<ModelManifest>(`${id}/manifest`, db());
}

/**
 * The model's manifest: the stored one (no network), else fetched from `/models/<id>/manifest.json`.
 * @throws EngineError 'model_download' when it is neither stored nor reachable.
 */
export async function loadManifest(id: string, baseUrl = '/models'): Promise<ModelManifest> {
  const stored = await cachedManifest(id).catch(() => undefined);
  if (stored) return stored;
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/${id}/manifest.json`);
  } catch (error) {
    throw new EngineError('model_download', `cannot reach the server for model "${id}" (${(error as Error).message})`);
  }
  if (!response.ok) throw new EngineError('model_download', `model "${id}" manifest: HTTP ${response.status}`);
  return (await response.json()) as ModelManifest;
}

/** Which of the manifest's files are stored with matching content. */
async function storedFiles(manifest: ModelManifest): Promise<Set<string>> {
  const records = await getMany<StoredFile | undefined>(manifest.files.map((f) => `${manifest.id}/file/${f.path}`), db());
  return new Set(manifest.files.filter((f, i) => records[i]?.sha256 === f.sha256 && records[i]?.size === f.size).map((f) => f.path));
}

/** Bytes of the manifest's files in `present`. */
const bytesOf = (manifest: ModelManifest, present: Set<string>) => manifest.files.filter((f) => present.has(f.path)).reduce((n, f) => n + f.size, 0);

/** Bytes of the model already stored, and the total. */
export async function downloadState(manifest: ModelManifest): Promise<{ storedBytes: number; totalBytes: number; complete: boolean }> {
  const present = await storedFiles(manifest).catch(() => new Set<string>());
  return { storedBytes: bytesOf(manifest, present), totalBytes: manifest.totalBytes, complete: present.size === manifest.files.length };
}

async function deleteByPrefix(prefix: string): Promise<void> {
  const stale = (await keys(db())).filter((k) => String(k).startsWith(prefix));
  if (stale.length) await delMany(stale, db());
}

async function downloadFile(manifest: ModelManifest, file: ModelManifest['files'][number], baseUrl: string, onBytes: (n: number) => void): Promise<void> {
  const url = `${baseUrl}/${manifest.id}/${file.path}`;
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store' });
  } catch (error) {
    throw new EngineError('model_download', `download of ${file.path} failed: ${(error as Error).message}`);
  }
  if (!response.ok || !response.body) throw new EngineError('model_download', `download of ${file.path} failed: HTTP ${response.status}`);
  await del(`${manifest.id}/file/${file.path}`, db());
  await deleteByPrefix(`${manifest.id}/chunk/${file.path}/`);
  const reader = response.body.getReader();
  let chunk = new Uint8Array(Math.min(CHUNK_BYTES, file.size || 1));
  let filled = 0;
  let index = 0;
  let received = 0;
  const flush = async () => {
    await set(`${manifest.id}/chunk/${file.path}/${index++}`, chunk.slice(0, filled).buffer, db()).catch((e) => {
      throw storageError('write', e);
    });
    filled = 0;
  };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    received += value.length;
    let offset = 0;
    while (offset < value.length) {
      const n = Math.min(chunk.length - filled, value.length - offset);
      chunk.set(value.subarray(offset, offset + n), filled);
      filled += n;
      offset += n;
      if (filled === chunk.length) await flush();
    }
    onBytes(value.length);
  }
  if (filled) await flush();
  if (received !== file.size) throw new EngineError('model_download', `${file.path}: received ${received} bytes, expected ${file.size}`);
  await set(`${manifest.id}/file/${file.path}`, { sha256: file.sha256, size: file.size, chunks: index } satisfies StoredFile, db());
}

/**
 * Downloads the files of `manifest` that are not stored yet (each once; a partly downloaded file starts
 * over), reporting bytes as they arrive, then saves the manifest so later visits need no network.
 * @param onProgress stored + received bytes so far, and the model's total.
 * @throws EngineError 'model_download' (network) or 'storage' (IndexedDB full or unavailable).
 */
export async function ensureDownloaded(manifest: ModelManifest, onProgress: (loaded: number, total: number) => void, baseUrl = '/models'): Promise<void> {
  const present = await storedFiles(manifest).catch(() => new Set<string>());
  let loaded = bytesOf(manifest, present);
  onProgress(loaded, manifest.totalBytes);
  for (const file of manifest.files) {
    if (present.has(file.path)) continue;
    await downloadFile(manifest, file, baseUrl, (n) => {
      loaded += n;
      onProgress(loaded, manifest.totalBytes);
    });
  }
  await set(`${manifest.id}/manifest`, manifest, db()).catch((e) => {
    throw storageError('write', e);
  });
}

/** Removes a model's manifest and files. */
export function deleteModel(id: string): Promise<void> {
  return deleteByPrefix(`${id}/`);
}

/**
 * Read access to a downloaded package, for the pipeline. A file whose chunks cannot be read back is
 * forgotten (so the next download fetches it again) and reported as missing.
 */
export class IndexedDbFileStore implements FileStore {
  private readonly paths: Set<string>;

  constructor(readonly manifest: ModelManifest) {
    this.paths = new Set(manifest.files.map((f) => f.path));
  }

  async exists(path: string): Promise<boolean> {
    return this.paths.has(path);
  }

  async readBytes(path: string): Promise<Uint8Array> {
    const id = this.manifest.id;
    const record = await get<StoredFile>(`${id}/file/${path}`, db()).catch(() => undefined);
    if (!record) throw new ModelFileMissingError(path, 'not downloaded');
    let parts: (ArrayBuffer | undefined)[];
    try {
      parts = await getMany<ArrayBuffer>(Array.from({ length: record.chunks }, (_, i) => `${id}/chunk/${path}/${i}`), db());
    } catch (error) {
      await del(`${id}/file/${path}`, db()).catch(() => undefined);
      throw new EngineError('storage', `stored ${path} could not be read back (${(error as Error).message}); it will be downloaded again`);
    }
    const out = new Uint8Array(record.size);
    let offset = 0;
    for (const part of parts) {
      if (!part) {
        await del(`${id}/file/${path}`, db()).catch(() => undefined);
        throw new ModelFileMissingError(path, 'a stored chunk is missing');
      }
      out.set(new Uint8Array(part), offset);
      offset += part.byteLength;
    }
    return out;
  }

  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path));
  }
}
