import { randomUUID } from 'node:crypto';
import { describeError, EngineError, type ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { ProgressEvent, StageTimings } from '../../../src/core/types.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What a finished generation left behind. */
export interface JobResult {
  sha256: string;
  width: number;
  height: number;
  seed: number;
  execution_provider: string;
  timings: StageTimings;
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
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

/** Runs one job; must honour `signal` between steps. */
export type JobRunner = (request: GenerateRequest, onProgress: (event: ProgressEvent) => void, signal: AbortSignal) => Promise<JobResult>;

interface Job {
  view: JobView;
  /** The full request, reference image included; dropped when the job ends. */
  request?: GenerateRequest;
  controller: AbortController;
}

/**
 * An in-process FIFO of generation jobs, run one at a time (one GPU, one model in memory). Finished
 * jobs are kept for `retentionMs` so clients can read their results; the images themselves live on in the
 * image store. Jobs do not survive a restart.
 */
export class JobQueue {
  private readonly jobs = new Map<string, Job>();
  private readonly pending: Job[] = [];
  private running: Job | undefined;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly runner: JobRunner, private readonly options: { retentionMs: number; maxQueued: number }) {}

  /** @throws EngineError `queue_full` when `maxQueued` jobs are already waiting. */
  submit(request: GenerateRequest, referenceImage?: ReferenceImageInfo): JobView {
    if (this.pending.length >= this.options.maxQueued) throw new EngineError('queue_full', `the queue is full (${this.options.maxQueued} jobs waiting); try again later`);
    this.prune();
    const { image: _image, ...shown } = request;
    const job: Job = {
      controller: new AbortController(),
      request,
      view: {
        id: randomUUID(),
        status: 'queued',
        request: shown,
        ...(referenceImage ? { reference_image: referenceImage } : {}),
        queue_position: this.pending.length + (this.running ? 1 : 0),
        progress: { stage: 'queued', step: 0, total_steps: request.num_inference_steps },
        created_at: new Date().toISOString(),
      },
    };
    this.jobs.set(job.view.id, job);
    this.pending.push(job);
    this.pump();
    return this.snapshot(job);
  }

  get(id: string): JobView | undefined {
    const job = this.jobs.get(id);
    return job && this.snapshot(job);
  }

  /** Cancels a queued or running job; returns its view, or undefined for an unknown id. */
  cancel(id: string): JobView | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    if (job.view.status === 'queued') {
      this.pending.splice(this.pending.indexOf(job), 1);
      this.finish(job, 'cancelled', { error: { code: 'cancelled', message: 'cancelled before it started' } });
    } else if (job.view.status === 'running') {
      job.controller.abort();
    }
    return this.snapshot(job);
  }

  /** For shutdown: cancels the waiting jobs and resolves when the running one has finished. */
  async close(): Promise<void> {
    for (const job of [...this.pending]) this.cancel(job.view.id);
    while (this.running) await this.idle;
  }

  private snapshot(job: Job): JobView {
    const position = this.pending.indexOf(job);
    return structuredClone({ ...job.view, queue_position: position < 0 ? 0 : position + (this.running ? 1 : 0) });
  }

  private finish(job: Job, status: JobStatus, extra: Partial<JobView>): void {
    Object.assign(job.view, { status, finished_at: new Date().toISOString(), ...extra });
    delete job.request;
  }

  private pump(): void {
    if (this.running) return;
    const job = this.pending.shift();
    if (!job) return;
    this.running = job;
    Object.assign(job.view, { status: 'running', started_at: new Date().toISOString() });
    this.idle = (async () => {
      try {
        const result = await this.runner(
          job.request!,
          (event) => {
            job.view.progress = event.stage === 'denoise'
              ? { stage: 'denoise', step: event.step, total_steps: event.totalSteps }
              : { ...job.view.progress, stage: event.stage };
          },
          job.controller.signal,
        );
        this.finish(job, 'succeeded', { result });
      } catch (error) {
        const info = describeError(error);
        this.finish(job, info.code === 'cancelled' ? 'cancelled' : 'failed', { error: info });
      } finally {
        this.running = undefined;
        this.pump();
      }
    })();
  }

  private prune(): void {
    const cutoff = Date.now() - this.options.retentionMs;
    for (const [id, job] of this.jobs) {
      if (job.view.finished_at && Date.parse(job.view.finished_at) < cutoff) this.jobs.delete(id);
    }
  }
}
