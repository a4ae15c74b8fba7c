/**
 * The server's job API as the browser reads it: the job view, its progress events, and JSON requests whose
 * failures carry an error code.
 */
import { EngineError, ERROR_CODES, type ErrorCode, type ErrorInfo } from '../core/errors.ts';
import type { NodeRecord } from '../core/workflow/index.ts';
import type { EngineEvent, EngineResult } from './engine.ts';

/** A server job's state: queued -> running -> succeeded | failed | cancelled. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** A job as `GET /api/generations/<id>` shows it (and the `done` event carries): the fields the browser reads. */
export interface JobView {
  id: string;
  status: JobStatus;
  queue_position: number;
  progress: { stage: JobStage; step: number; total_steps: number };
  result?: { sha256: string; raw_sha256?: string; width: number; height: number; seed: number; execution_provider: string; timings: EngineResult['timings']; truncated: EngineResult['truncated'] };
  image_url?: string;
  /** The picture without the ad copy, when the layout node applied copy. */
  raw_image_url?: string;
  /** The ad workflow's nodes of the run that ended the job. */
  nodes?: NodeRecord[];
  error?: ErrorInfo;
}

/** What a server job is doing: waiting, loading the model, encoding the prompt, denoising, decoding, laying the ad copy. */
export type JobStage = 'queued' | 'load' | 'encode' | 'denoise' | 'decode' | 'layout';

/** The data of a `progress` event on `GET /api/generations/<id>/events`. */
export interface JobProgress {
  status: 'queued' | 'running';
  stage: JobStage;
  step: number;
  total: number;
  /** Milliseconds until the image is ready, once the server has measured a step; null before. */
  eta_ms: number | null;
  queue_position: number;
  /** A small PNG of the latents (`data:image/png;base64,...`), every few denoising steps. */
  preview?: string;
}

/** Whether a job in `status` has ended (nothing more will happen to it). */
export const isEnded = (status: JobStatus) => status === 'succeeded' || status === 'failed' || status === 'cancelled';

const isErrorCode = (code: unknown): code is ErrorCode => typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);

/**
 * The page's engine events for one progress report of a job (from the stream or a poll): its stage, then its
 * ETA when known. A preview is told only when it differs from `lastPreview` (the server repeats the latest one).
 */
export function jobEvents(p: JobProgress, lastPreview?: string): EngineEvent[] {
  const out: EngineEvent[] = [];
  if (p.status === 'queued' || p.stage === 'queued') out.push({ stage: 'queued', position: p.queue_position });
  else if (p.stage === 'load') out.push({ stage: 'server_load' });
  else if (p.stage === 'denoise') out.push({ stage: 'denoise', step: p.step, totalSteps: p.total });
  else out.push({ stage: p.stage });
  if (p.preview && p.preview !== lastPreview) out.push({ stage: 'preview', url: p.preview, step: p.step });
  if (typeof p.eta_ms === 'number') out.push({ stage: 'eta', ms: p.eta_ms });
  return out;
}

/** A job view's progress as a stream's progress report (polling has no ETA and no preview). */
export const viewProgress = (job: JobView): JobProgress => ({
  status: job.status === 'queued' ? 'queued' : 'running',
  stage: job.progress.stage,
  step: job.progress.step,
  total: job.progress.total_steps,
  eta_ms: null,
  queue_position: job.queue_position,
});

/**
 * An error the server reported, with its code; a job the server does not know (404 `not_found`: its data was
 * wiped, or it was never there) is `interrupted`, and a code this page does not know is `internal`.
 */
export function serverError(info: { code?: unknown; message?: unknown; issues?: ErrorInfo['issues'] }, status: number): EngineError {
  const message = typeof info.message === 'string' ? info.message : `HTTP ${status}`;
  if (status === 404 && info.code === 'not_found') return new EngineError('interrupted', `the server no longer has this generation (${message})`);
  if (isErrorCode(info.code)) return new EngineError(info.code, message, info.issues);
  return new EngineError('internal', `the server answered HTTP ${status} ${String(info.code ?? '')}: ${message}`);
}

/**
 * A JSON request to the server.
 * @throws EngineError `server_unreachable` when there is no answer or one without a JSON error body; the
 *   server's code otherwise (see `serverError`).
 */
export async function fetchJson<T>(url: string, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new EngineError('server_unreachable', `the server cannot be reached (${(error as Error).message})`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { error?: unknown };
  if (response.ok) return body;
  if (body.error && typeof body.error === 'object') throw serverError(body.error, response.status);
  throw new EngineError('server_unreachable', `the server answered HTTP ${response.status}`);
}
