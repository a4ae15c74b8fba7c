/**
 * Streamed, verified, resumable download of one content-addressed model file into IndexedDB. Bytes go from
 * the network into fixed-size chunks; each chunk is checked against its SHA-256 from the manifest before it is
 * stored (a chunk that fails is fetched again alone, with an HTTP Range request), the whole file's SHA-256 is
 * computed incrementally (hash-wasm) and checked before the file counts as present, and an interrupted
 * download (a reload, a dropped connection) resumes with a Range request from the last verified chunk. No
 * more than one chunk is held in memory.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { EngineError } from '../../core/errors.ts';
import type { ManifestFile } from '../../core/loading/manifest.ts';
import { deleteFiles, putChunk, putRecord, readChunk, storedFile, type StoredFile } from './blobStore.ts';

/** Where a file is served: `GET <base>/files/<sha256>` (immutable, Range requests). */
export const fileUrl = (baseUrl: string, sha256: string) => `${baseUrl}/files/${sha256}`;

/** Connection failures tolerated in a row (each retry resumes from the last verified chunk). */
const RETRIES = 3;

const hex = (digest: ArrayBuffer) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');

/**
 * SHA-256 of one chunk: WebCrypto's native digest where the page is a secure context (several times faster),
 * hash-wasm otherwise (plain http on a local network has no `crypto.subtle`).
 */
async function sha256Hex(hasher: IHasher, bytes: Uint8Array): Promise<string> {
  if (globalThis.crypto?.subtle) return hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  hasher.init();
  hasher.update(bytes);
  return hasher.digest('hex');
}

async function fetchOrThrow(url: string, init: RequestInit, what: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { cache: 'no-store', ...init });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new EngineError('model_download', `download of ${what} failed: ${(error as Error).message}`);
  }
  if (!response.ok) throw new EngineError('model_download', `download of ${what} failed: HTTP ${response.status}`);
  return response;
}

/** Byte range of chunk `index` of `file`. */
function chunkRange(file: ManifestFile, chunkBytes: number, index: number): [number, number] {
  const start = index * chunkBytes;
  return [start, Math.min(start + chunkBytes, file.size)];
}

/** A chunk that failed its SHA-256 again when fetched alone: retrying the download would not help. */
class ChunkVerificationError extends EngineError {
  constructor(message: string) {
    super('model_download', message);
  }
}

/**
 * Fetches chunk `index` alone (`Range: bytes=start-end`) and checks it.
 * @throws EngineError `model_download` when the server does not answer with exactly those bytes, or they do not match.
 */
export async function fetchChunk(file: ManifestFile, chunkBytes: number, index: number, baseUrl: string, check: IHasher, signal?: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
  const [start, end] = chunkRange(file, chunkBytes, index);
  const what = `${file.path} chunk ${index}`;
  const response = await fetchOrThrow(fileUrl(baseUrl, file.sha256), { headers: { range: `bytes=${start}-${end - 1}` }, signal }, what);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (response.status !== 206 || bytes.length !== end - start) throw new EngineError('model_download', `${what}: the server did not answer the range request (HTTP ${response.status}, ${bytes.length} bytes)`);
  if ((await sha256Hex(check, bytes)) !== file.chunks[index]) throw new ChunkVerificationError(`${what} failed its SHA-256 check twice`);
  return bytes;
}

export interface DownloadOptions {
  chunkBytes: number;
  baseUrl: string;
  /** Bytes newly stored (verified), as they are. */
  onBytes: (bytes: number) => void;
  signal?: AbortSignal;
}

/** A fresh record for `file`, dropping whatever a different layout left. */
async function freshRecord(file: ManifestFile, chunkBytes: number, old: StoredFile | undefined): Promise<StoredFile> {
  if (old) await deleteFiles([file.sha256]);
  return { size: file.size, chunkBytes, chunks: Math.max(1, Math.ceil(file.size / chunkBytes)), verified: 0, complete: false };
}

/**
 * Makes `file` present in IndexedDB: returns at once when it is, resumes a partial download, otherwise
 * downloads it. `onBytes` is also told the bytes a resumed download already had.
 * @throws EngineError `model_download` (network, or a hash that does not match), `storage` or `storage_full`
 *   (IndexedDB); a DOM AbortError when `signal` aborts. What was verified stays stored for the next attempt.
 */
export async function downloadFile(file: ManifestFile, options: DownloadOptions): Promise<void> {
  const { chunkBytes, baseUrl, onBytes, signal } = options;
  let record = await storedFile(file.sha256);
  if (record?.complete && record.size === file.size) return;
  if (!record || record.chunkBytes !== chunkBytes || record.size !== file.size || (record.verified > 0 && !record.state)) record = await freshRecord(file, chunkBytes, record);
  if (file.chunks.length !== record.chunks) throw new EngineError('model_package', `${file.path}: the manifest lists ${file.chunks.length} chunk hashes for ${record.chunks} chunks`);
  const whole = await createSHA256();
  const check = await createSHA256();
  if (record.verified > 0) whole.load(record.state!);
  else whole.init();
  onBytes(Math.min(record.verified * chunkBytes, file.size));
  if (file.size === 0) record.verified = record.chunks; // nothing to fetch; the digest below checks the empty file

  // each chunk's IndexedDB write overlaps the next chunk's arrival; at most one write is in flight
  let writing: Promise<void> = Promise.resolve();
  const store = async (index: number, bytes: Uint8Array) => {
    let verified = bytes;
    if ((await sha256Hex(check, bytes)) !== file.chunks[index]) verified = await fetchChunk(file, chunkBytes, index, baseUrl, check, signal);
    whole.update(verified);
    const next: StoredFile = { ...record!, verified: index + 1, state: whole.save() };
    const copy = verified.byteOffset === 0 && verified.byteLength === verified.buffer.byteLength ? (verified.buffer as ArrayBuffer) : verified.slice().buffer;
    await writing;
    writing = putChunk(file.sha256, index, copy, next).then(() => {
      record = next;
      onBytes(verified.length);
    });
  };
  const stream = async (from: number) => {
    try {
      await streamFrom(file, chunkBytes, from, baseUrl, store, signal);
    } finally {
      // a write that failed is the error to report; one that succeeded counts before a retry resumes
      await writing;
    }
  };

  for (let failures = 0; record.verified < record.chunks; ) {
    const before = record.verified;
    try {
      await stream(record.verified);
    } catch (error) {
      const retryable = error instanceof EngineError && error.code === 'model_download' && !(error instanceof ChunkVerificationError);
      if (!retryable || (record.verified === before && ++failures >= RETRIES)) throw error;
      if (record.verified > before) failures = 0;
    }
  }
  const digest = whole.digest('hex');
  if (digest !== file.sha256) {
    await deleteFiles([file.sha256]);
    throw new EngineError('model_download', `${file.path}: SHA-256 ${digest} does not match the manifest's ${file.sha256}; it will be downloaded again`);
  }
  await putRecord(file.sha256, { ...record, state: undefined, complete: true });
}

/** Streams the file from chunk `from` on, handing each whole chunk to `store` in order. */
async function streamFrom(
  file: ManifestFile,
  chunkBytes: number,
  from: number,
  baseUrl: string,
  store: (index: number, bytes: Uint8Array) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const start = from * chunkBytes;
  const headers: Record<string, string> = start > 0 ? { range: `bytes=${start}-` } : {};
  const response = await fetchOrThrow(fileUrl(baseUrl, file.sha256), { headers, signal }, file.path);
  if (!response.body) throw new EngineError('model_download', `download of ${file.path} failed: no response body`);
  // a server that ignores Range answers 200 with the whole file: skip what is already stored
  let skip = start > 0 && response.status === 200 ? start : 0;
  const reader = response.body.getReader();
  let index = from;
  let [chunkStart, chunkEnd] = chunkRange(file, chunkBytes, index);
  let chunk: Uint8Array<ArrayBuffer> = new Uint8Array(chunkEnd - chunkStart);
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let offset = Math.min(skip, value.length);
      skip -= offset;
      while (offset < value.length) {
        if (index >= Math.ceil(file.size / chunkBytes)) throw new EngineError('model_download', `${file.path}: the server sent more than ${file.size} bytes`);
        const n = Math.min(chunk.length - filled, value.length - offset);
        chunk.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === chunk.length) {
          await store(index, chunk);
          index++;
          [chunkStart, chunkEnd] = chunkRange(file, chunkBytes, index);
          chunk = new Uint8Array(Math.max(0, chunkEnd - chunkStart));
          filled = 0;
        }
      }
    }
  } catch (error) {
    await reader.cancel().catch(() => undefined);
    if (error instanceof EngineError || (error as Error).name === 'AbortError') throw error;
    throw new EngineError('model_download', `download of ${file.path} broke off: ${(error as Error).message}`);
  }
  if (index < Math.ceil(file.size / chunkBytes)) {
    throw new EngineError('model_download', `download of ${file.path} ended early, after ${Math.min(index * chunkBytes, file.size)} of ${file.size} bytes`);
  }
}

/**
 * Re-checks every stored chunk of a complete file against its SHA-256 and replaces those that fail with a
 * Range request for that chunk alone.
 * @returns the indices of the chunks that were repaired.
 * @throws EngineError `model_download` when a chunk cannot be repaired, `storage` when chunks cannot be read.
 */
export async function verifyFile(file: ManifestFile, options: Pick<DownloadOptions, 'baseUrl' | 'signal'>): Promise<number[]> {
  const record = await storedFile(file.sha256);
  if (!record?.complete) return [];
  const check = await createSHA256();
  const whole = await createSHA256();
  whole.init();
  const repaired: number[] = [];
  for (let i = 0; i < record.chunks; i++) {
    let bytes: Uint8Array = new Uint8Array(await readChunk(file.sha256, i));
    if ((await sha256Hex(check, bytes)) !== file.chunks[i]) {
      bytes = await fetchChunk(file, record.chunkBytes, i, options.baseUrl, check, options.signal);
      await putChunk(file.sha256, i, bytes.slice().buffer, record);
      repaired.push(i);
    }
    whole.update(bytes);
  }
  if (whole.digest('hex') !== file.sha256) {
    await deleteFiles([file.sha256]);
    throw new EngineError('model_download', `${file.path}: the stored copy does not match its SHA-256 after repair; it will be downloaded again`);
  }
  return repaired;
}
