import type { ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { ProgressEvent, StageTimings } from '../../../src/core/types.ts';
import type { NodeRecord } from '../../../src/core/workflow/index.ts';
import type { RenderEvent } from '../render/renderEngine.ts';

/** Job states: queued -> running -> succeeded | failed (with an error code) | cancelled. */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a finished generation left behind. */
export interface JobResult {
  /** SHA-256 of the final PNG (with the ad copy when the layout node applied it). */
  sha256: string;
  /** SHA-256 of the PNG without the copy; only when the layout node applied copy. */
  raw_sha256?: string;
  width: number;
  height: number;
  seed: number;
  execution_provider: string;
  timings: StageTimings;
  /** Each denoising step's wall time, milliseconds, in order. */
  step_ms: number[];
  truncated: Partial<Record<'prompt' | 'negative_prompt', string>>;
}

/** What the API says about a request's reference image (the image itself is not echoed back). */
export interface ReferenceImageInfo {
  type: string;
  width: number;
  height: number;
  bytes: number;
}

/** A job as the API shows it (snake_case JSON). */
export interface JobView {
  id: string;
  status: JobStatus;
  /** The request without its `image` data (see `reference_image`). */
  request: Omit<GenerateRequest, 'image'>;
  reference_image?: ReferenceImageInfo;
  /** Jobs ahead of this one while queued. */
  queue_position: number;
  progress: { stage: ProgressEvent['stage'] | 'queued'; step: number; total_steps: number };
  result?: JobResult;
  error?: ErrorInfo;
  /** The ad workflow's nodes of the last run (prompt, txt2img | img2img, layout, export), once it has ended. */
  nodes?: NodeRecord[];
  /** Times the job has been started (more than 1 after a crash re-queued it). */
  attempts: number;
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

/**
 * Runs one job (`id` names it to the engine); must honour `signal` between steps. Resolves with the result and
 * the workflow's node records; a rejection may carry `nodes` too (`nodesOf`).
 */
export type JobRunner = (job: { id: string; request: GenerateRequest; previewEvery: number }, onEvent: (event: RenderEvent) => void, signal: AbortSignal) => Promise<Omit<JobResult, 'step_ms'> & { nodes?: NodeRecord[] }>;

