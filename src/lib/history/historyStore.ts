/**
 * Generated images kept in IndexedDB (idb-keyval), newest first, surviving reloads. PNGs are stored as
 * ArrayBuffers (not Blobs, which some contexts cannot read back).
 */
import { createStore, del, entries, set, type UseStore } from 'idb-keyval';
import type { GenerateRequest } from '../../core/request.ts';
import type { EngineResult } from '../../engine/engine.ts';
import type { DraftCopy } from '../studio/draft.ts';

/** One step of the workflow that made an image (src/core/workflow): shown in "how it was made". */
export interface NodeRecordView {
  node: string;
  status: string;
  started_at: string;
  duration_ms: number;
  error_code?: string;
  /** The prompt node's translator: `glossary` or the translation model's id (its `detail.translated_by`). */
  translated_by?: string;
}

export interface HistoryEntry {
  id: string;
  createdAt: string;
  request: GenerateRequest;
  /** The image as made, with the ad copy when the workflow laid it out. */
  png: ArrayBuffer;
  /** The picture without the copy, when the workflow laid copy over it (the copy can be edited later). */
  rawPng?: ArrayBuffer;
  /** The copy the page shows over the picture (edited after generation without generating again). */
  copy?: DraftCopy;
  /** The workflow's steps with their status and time. */
  nodes?: NodeRecordView[];
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
export function historyEntry(request: GenerateRequest, result: EngineResult, copy?: DraftCopy): HistoryEntry {
  const createdAt = new Date().toISOString();
  return {
    id: `${createdAt}-${Math.random().toString(36).slice(2, 8)}`,
    createdAt,
    request,
    png: result.png.slice().buffer,
    ...(result.rawPng ? { rawPng: result.rawPng.slice().buffer } : {}),
    ...(copy ? { copy } : {}),
    nodes: result.nodes.map(({ node, status, started_at, duration_ms, error_code, detail }) => ({
      node,
      status,
      started_at,
      duration_ms,
      ...(error_code ? { error_code } : {}),
      ...(typeof detail?.['translated_by'] === 'string' ? { translated_by: detail['translated_by'] } : {}),
    })),
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
