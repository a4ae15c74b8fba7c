/**
 * The server job this page is waiting on, kept in IndexedDB (idb-keyval) so a reload can re-attach to it.
 * Without IndexedDB (some private windows) nothing is kept and nothing fails: the job just cannot be
 * re-attached after a reload.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import type { GenerateRequest } from '../core/request.ts';

/** A submitted server job and what the page needs to show it when it ends. */
export interface PendingJob {
  id: string;
  request: GenerateRequest;
  /** ISO time of the submission. */
  submittedAt: string;
}

const KEY = 'current';
let store: UseStore | undefined;
const db = () => (store ??= createStore('ad-studio-jobs', 'pending'));

/** Remembers `job` as the one this page waits on (replacing any other); false when IndexedDB cannot keep it. */
export async function savePendingJob(job: PendingJob): Promise<boolean> {
  try {
    await set(KEY, job, db());
    return true;
  } catch {
    return false;
  }
}

/** The job an earlier visit left waiting, if IndexedDB has one. */
export async function loadPendingJob(): Promise<PendingJob | undefined> {
  try {
    const job = await get<PendingJob>(KEY, db());
    return job && typeof job.id === 'string' && job.request ? job : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets job `id` once it ended (a newer job kept by another tab stays). */
export async function clearPendingJob(id: string): Promise<void> {
  try {
    if ((await get<PendingJob>(KEY, db()))?.id === id) await del(KEY, db());
  } catch {
    // nothing was kept
  }
}
