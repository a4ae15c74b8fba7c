/**
 * Generated images kept in IndexedDB (idb-keyval), newest first, surviving reloads. PNGs are stored as
 * ArrayBuffers (not Blobs, which some contexts cannot read back).
 */
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import type { GenerateRequest } from '../../core/request.ts';
import type { EngineResult } from '../../engine/engine.ts';

export interface HistoryEntry {
  id: string;
  createdAt: string;
  request: GenerateRequest;
  png: ArrayBuffer;
  width: number;
  height: number;
  route: EngineResult['route'];
  executionProvider: string;
  /** The model variant this device ran; absent for the server. */
  variant?: string;
  /** Where this device's denoising loop kept the latents. */
  denoisedOn?: 'device' | 'host';
  totalMs: number;
  /** Why the device run failed, when the server made this image instead. */
  fallbackReason?: string;
}

let store: UseStore | undefined;
const db = () => (store ??= createStore('ad-studio-history', 'entries'));

/** All entries, newest first; entries that cannot be read are skipped. */
export async function listHistory(): Promise<HistoryEntry[]> {
  const all = await entries<string, HistoryEntry>(db());
  return all.map(([, e]) => e).filter((e) => e && e.png instanceof ArrayBuffer).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** A history entry for a generated image (not saved yet). */
export function historyEntry(request: GenerateRequest, result: EngineResult): HistoryEntry {
  const createdAt = new Date().toISOString();
  return {
    id: `${createdAt}-${Math.random().toString(36).slice(2, 8)}`,
    createdAt,
    request,
    png: result.png.slice().buffer,
    width: result.width,
    height: result.height,
    route: result.route,
    executionProvider: result.executionProvider,
    ...(result.variant ? { variant: result.variant } : {}),
    ...(result.denoisedOn ? { denoisedOn: result.denoisedOn } : {}),
    totalMs: result.timings.totalMs,
    ...(result.fallbackFrom ? { fallbackReason: `${result.fallbackFrom.code}: ${result.fallbackFrom.message}` } : {}),
  };
}

/** @throws when IndexedDB refuses the write (quota, disabled storage). */
export async function saveHistory(entry: HistoryEntry): Promise<void> {
  await set(entry.id, entry, db());
}

export async function deleteHistory(id: string): Promise<void> {
  await del(id, db());
}
