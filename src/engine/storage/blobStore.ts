/**
 * Model files kept in IndexedDB (idb-keyval), by content: a file two packages share (the VAE of the style
 * checkpoints) is stored once. Values are ArrayBuffers, never Blobs: Blobs stored in IndexedDB fail to read
 * back in some contexts (incognito: NotReadableError). Each file is a sequence of fixed-size chunks; its
 * record says how many leading chunks are stored and verified, and keeps the SHA-256 state after them
 * (hash-wasm `save()`), so an interrupted download resumes where it stopped and a file counts as present only
 * once its whole SHA-256 matched.
 *
 * Keys: `file/<sha256>` -> StoredFile; `chunk/<sha256>/<i>` -> ArrayBuffer; `manifest/<id>` -> ModelManifest;
 * `device/<id>` -> DeviceModelRecord.
 */
import { createStore, del, delMany, get, getMany, keys, set, setMany, type UseStore } from 'idb-keyval';
import { EngineError } from '../../core/errors.ts';

/** What is stored of one file. */
export interface StoredFile {
  size: number;
  chunkBytes: number;
  /** Number of chunks of the whole file. */
  chunks: number;
  /** Leading chunks stored, each checked against its SHA-256. */
  verified: number;
  /** SHA-256 state (hash-wasm `save()`) after the verified chunks. */
  state?: Uint8Array;
  /** The whole file's SHA-256 matched. */
  complete: boolean;
}

/** What this device learned about running a model. */
export interface DeviceModelRecord {
  /** Variants that failed to load here, with the reason in plain words. */
  failed: Record<string, string>;
}

const KEY_PREFIXES = ['file/', 'chunk/', 'manifest/', 'device/'];
let store: UseStore | undefined;
export const db = () => (store ??= createStore('ad-studio-models', 'files'));

export const fileKey = (sha256: string) => `file/${sha256}`;
export const chunkKey = (sha256: string, index: number) => `chunk/${sha256}/${index}`;

/**
 * An IndexedDB failure as an EngineError: `storage_full` for QuotaExceededError (the browser's storage quota),
 * `storage` otherwise. Classified by the DOMException's name, which is its type.
 */
export function storageError(action: string, error: unknown): EngineError {
  const name = (error as { name?: string } | undefined)?.name;
  if (name === 'QuotaExceededError') {
    return new EngineError('storage_full', `this browser's storage for the app is full (${action}); free space or use the server`);
  }
  return new EngineError('storage', `IndexedDB ${action} failed: ${(error as Error)?.message ?? String(error)}`);
}

/** Runs an IndexedDB operation, mapping its failure to a coded error. */
export async function idb<T>(action: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storageError(action, error);
  }
}

export const storedFile = (sha256: string) => idb('read', () => get<StoredFile>(fileKey(sha256), db()));

/** Records of several files at once (undefined where not stored). */
export const storedFiles = (sha256s: readonly string[]) => idb('read', () => getMany<StoredFile | undefined>(sha256s.map(fileKey), db()));

/** Writes chunk `index` and the file record in one transaction, so the record never claims a chunk that is not there. */
export const putChunk = (sha256: string, index: number, bytes: ArrayBuffer, record: StoredFile) =>
  idb('write', () => setMany([[chunkKey(sha256, index), bytes], [fileKey(sha256), record]], db()));

export const putRecord = (sha256: string, record: StoredFile) => idb('write', () => set(fileKey(sha256), record, db()));

/**
 * Chunk `index` of a stored file.
 * @throws EngineError `storage` when it cannot be read back (the record is dropped, so it downloads again).
 */
export async function readChunk(sha256: string, index: number): Promise<ArrayBuffer> {
  let value: ArrayBuffer | undefined;
  try {
    value = await get<ArrayBuffer>(chunkKey(sha256, index), db());
  } catch (error) {
    await del(fileKey(sha256), db()).catch(() => undefined);
    throw storageError(`read of a stored chunk`, error);
  }
  if (!(value instanceof ArrayBuffer)) {
    await del(fileKey(sha256), db()).catch(() => undefined);
    throw new EngineError('storage', `chunk ${index} of stored file ${sha256.slice(0, 12)}… is missing; it will be downloaded again`);
  }
  return value;
}

/** Deletes files (records and chunks) by content hash. */
export async function deleteFiles(sha256s: readonly string[]): Promise<void> {
  if (!sha256s.length) return;
  const doomed = new Set(sha256s);
  const all = await idb('read', () => keys(db()));
  const stale = all.filter((k) => {
    const [kind, sha] = String(k).split('/');
    return (kind === 'file' || kind === 'chunk') && doomed.has(sha!);
  });
  await idb('delete', () => delMany(stale, db()));
}

/** Removes values left by older versions of the app (keys outside the current scheme). */
export async function dropLegacyKeys(): Promise<void> {
  const all = await idb('read', () => keys(db()));
  const legacy = all.filter((k) => !KEY_PREFIXES.some((p) => String(k).startsWith(p)));
  if (legacy.length) await idb('delete', () => delMany(legacy, db()));
}

export const deviceRecord = async (id: string): Promise<DeviceModelRecord> => (await idb('read', () => get<DeviceModelRecord>(`device/${id}`, db()))) ?? { failed: {} };
export const putDeviceRecord = (id: string, record: DeviceModelRecord) => idb('write', () => set(`device/${id}`, record, db()));
