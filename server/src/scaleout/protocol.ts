/**
 * What travels through Redis between the API and render workers (BullMQ 6 with ioredis). The API's SQLite job
 * store stays the source of truth for jobs (README, "Scale-out"); Redis carries the work queue, worker leases,
 * progress, cancels and, briefly, result images.
 */
import type { ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { ProgressEvent } from '../../../src/core/types.ts';
import type { NodeRecord } from '../../../src/core/workflow/index.ts';
import type { JobResult } from '../jobs/jobTypes.ts';

/** BullMQ queue of generation jobs (BullMQ job id = our job id). */
export const QUEUE_NAME = 'ad-studio-generations';
/** Pub/sub channel on which the API asks workers to cancel a job (message: the job id). */
export const CANCEL_CHANNEL = 'ad-studio:cancel';
/** Key set when a job is cancelled, so a worker that picks it up later skips it (expires after a day). */
export const cancelledKey = (id: string) => `ad-studio:cancelled:${id}`;
/** Key holding a finished job's PNG until the API has stored it (expires after a day). */
export const resultKey = (id: string) => `ad-studio:result:${id}`;
/** Key holding a finished job's PNG without the ad copy (when the layout node applied copy), as `resultKey`. */
export const rawResultKey = (id: string) => `ad-studio:result-raw:${id}`;
/** Seconds the cancel and result keys live. */
export const KEY_TTL_S = 24 * 3600;

export interface WorkerJobData {
  id: string;
  /** With `model` resolved; a reference image inline as its data URL. */
  request: GenerateRequest;
  previewEvery: number;
}

/** `job.updateProgress` payloads, in order: started, then the pipeline's events and previews. */
export type WorkerProgress =
  | { kind: 'started'; attempts: number }
  | { kind: 'event'; event: ProgressEvent }
  | { kind: 'preview'; step: number; png_base64: string };

/**
 * A worker's return value. Failures of the generation itself are returned, not thrown: a BullMQ failure then
 * only means the job was lost to its workers (stalled past the limit), which the API reports as `interrupted`.
 */
export type WorkerReturn =
  | { ok: true; result: Omit<JobResult, 'step_ms' | 'sha256' | 'raw_sha256'>; nodes?: NodeRecord[]; /** the raw PNG waits under `rawResultKey` */ raw?: boolean }
  | { ok: false; error: ErrorInfo; nodes?: NodeRecord[] };
