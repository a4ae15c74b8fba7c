/**
 * SHA-256 of package files and of their fixed-size chunks, persisted beside the package in
 * `.ad-studio/hashes.json` and keyed by size and modification time, so a server start re-hashes only files
 * that changed (hashing a 7 GB SDXL package takes tens of seconds).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestFile } from '../../../src/core/loading/manifest.ts';

interface CachedHash {
  size: number;
  mtimeMs: number;
  sha256: string;
  chunks: string[];
}

interface HashCacheFile {
  chunkBytes: number;
  files: Record<string, CachedHash>;
}

export const CACHE_FILE = '.ad-studio/hashes.json';

/**
 * Streams `path` once, computing the whole-file SHA-256 and one per `chunkBytes` slice.
 * @returns hex digests.
 */
export async function hashFile(path: string, chunkBytes: number): Promise<{ sha256: string; chunks: string[] }> {
  const whole = createHash('sha256');
  const chunks: string[] = [];
  let chunk = createHash('sha256');
  let inChunk = 0;
  for await (const data of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(data);
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(chunkBytes - inChunk, data.length - offset);
      chunk.update(data.subarray(offset, offset + n));
      inChunk += n;
      offset += n;
      if (inChunk === chunkBytes) {
        chunks.push(chunk.digest('hex'));
        chunk = createHash('sha256');
        inChunk = 0;
      }
    }
  }
  if (inChunk > 0 || chunks.length === 0) chunks.push(chunk.digest('hex'));
  return { sha256: whole.digest('hex'), chunks };
}

/**
 * Hashes of the package files `paths` (package-relative) under `root`, from the cache where size and mtime
 * still match, computed (and the cache rewritten) otherwise.
 * @param onHashing called before each file that has to be read.
 */
export async function packageHashes(root: string, paths: readonly string[], chunkBytes: number, onHashing?: (path: string, size: number) => void): Promise<ManifestFile[]> {
  const cachePath = join(root, CACHE_FILE);
  let cache: HashCacheFile = { chunkBytes, files: {} };
  try {
    const parsed = JSON.parse(await readFile(cachePath, 'utf8')) as HashCacheFile;
    if (parsed.chunkBytes === chunkBytes && parsed.files) cache = parsed;
  } catch {
    // no cache yet, or unreadable: everything is hashed again
  }
  let changed = false;
  const files: ManifestFile[] = [];
  const kept: Record<string, CachedHash> = {};
  for (const path of paths) {
    const info = await stat(join(root, path));
    let entry = cache.files[path];
    if (!entry || entry.size !== info.size || entry.mtimeMs !== info.mtimeMs) {
      onHashing?.(path, info.size);
      entry = { size: info.size, mtimeMs: info.mtimeMs, ...(await hashFile(join(root, path), chunkBytes)) };
      changed = true;
    }
    kept[path] = entry;
    files.push({ path, size: entry.size, sha256: entry.sha256, chunks: entry.chunks });
  }
  if (changed || Object.keys(kept).length !== Object.keys(cache.files).length) {
    try {
      await mkdir(join(root, '.ad-studio'), { recursive: true });
      const temp = `${cachePath}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify({ chunkBytes, files: kept } satisfies HashCacheFile));
      await rename(temp, cachePath);
    } catch {
      // a read-only models folder: hashes are recomputed at the next start
    }
  }
  return files;
}
