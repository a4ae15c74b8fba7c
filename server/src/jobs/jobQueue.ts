import { createHash, randomUUID } from 'node:crypto';
import { describeError, EngineError, type ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import { nodesOf, type NodeRecord } from '../../../src/core/workflow/index.ts';
import type { VerifiedImage } from '../images/verifyReference.ts';
import type { RenderEvent } from '../render/renderEngine.ts';
import { JobEvents, type ProgressData } from './jobEvents.ts';
import type { JobStore, StoredJob } from './jobStore.ts';
import type { JobResult, JobRunner, JobStatus, JobView } from './jobTypes.ts';

/** A running job: what lives only in memory. */
interface Running {
  id: string;
  started: number;
  controller: AbortController;
  progress: JobView['progress'];
  stepStarted: number;
  stepMs: number[];
  /** The latest preview, as a data: URL. */
  preview?: string;
  /** Stopped by `interrupt` (a server stop): back to the queue uncounted, unless it finished first. */
  interrupted?: boolean;
}

/** How a job ended: its result or its error, and the workflow's node records when the run got that far. */
export type JobOutcome = ({ result: Omit<JobResult, 'step_ms'> } | { error: ErrorInfo }) & { nodes?: NodeRecord[] };

/** Previews per job when `previewEvery` is automatic. */
const PREVIEWS_PER_JOB = 6;

/**
 * Where jobs run when not in this process (scale-out): the queue hands each new job over and asks for
 * cancels; the dispatcher reports back through `JobQueue.remoteStarted`, `remoteEvent` and `remoteFinished`.
 */
export interface JobDispatcher {
  /** Hands a committed job to the workers (idempotent by job id). Failures are retried by the dispatcher. */
  enqueue(job: StoredJob, previewEvery: number): void;
  /** Asks the workers to stop the job (queued or running). */
  cancel(id: string): void;
  close(): Promise<void>;
}

/**
 * Generation jobs, durable in a `JobStore`, run one at a time in submission order (one GPU, one model in
 * memory). A job is committed before `submit` returns. On start, jobs a crash left running are re-queued
 * up to `maxAttempts` starts, then failed with `interrupted`.
 */
export class JobQueue {
  /** Jobs running now: at most one here; any number on remote workers. */
  private readonly running = new Map<string, Running>();
  private idle: Promise<void> = Promise.resolve();
  private dispatcher: JobDispatcher | undefined;
  private closed = false;
  /** Progress streams (Server-Sent Events) of running and watched jobs. */
  readonly events = new JobEvents();
  /** Moving averages for ETAs, milliseconds: a denoising step, and what a job spends outside its steps. */
  private stepAverage: number | undefined;
  private restAverage: number | undefined;

  /**
   * @param options.previewEvery a preview every this many steps; 0 none; undefined about six per job.
   * @param options.remote jobs run on remote workers (call `useDispatcher` next); nothing runs in this process.
   * @param options.loadedModel the checkpoint the engine holds: its jobs go first while no job has waited
   *   `maxWaitMs` (see `JobStore.claimNext`).
   * @param options.onJobAccepted, options.onJobStarted, options.onJobEnded told each new job, each start (here
   *   or on a worker) and each end (finished, failed, cancelled, queued ones too) with the job's view; for logs
   *   and metrics; must not throw.
   */
  constructor(
    private readonly store: JobStore,
    private readonly runner: JobRunner,
    private readonly options: { maxQueued: number; maxAttempts: number; now?: () => number; previewEvery?: number; loadedModel?: () => string | undefined; maxWaitMs?: number; remote?: boolean; onJobAccepted?: (view: JobView) => void; onJobStarted?: (view: JobView) => void; onJobEnded?: (view: JobView) => void },
  ) {
    // with remote workers, jobs marked running may be running: the dispatcher reconciles them instead
    if (!options.remote) store.recover(options.maxAttempts);
    this.pump();
  }

  /**
   * Sends new jobs to remote workers from now on (scale-out): this process stops running jobs itself. Call it
   * right after construction (the dispatcher reconciles jobs already in the store).
   */
  useDispatcher(dispatcher: JobDispatcher): void {
    this.dispatcher = dispatcher;
  }

  /** Denoising steps between previews for the job. */
  previewEvery(job: StoredJob): number {
    return this.options.previewEvery ?? Math.max(1, Math.ceil(job.request.num_inference_steps / PREVIEWS_PER_JOB));
  }

  /**
   * Stores a queued job, or returns the job stored under `idempotencyKey` (`created` false).
   * @throws EngineError `queue_full` when `maxQueued` jobs are already waiting.
   * @throws IdempotencyConflictError when the key was used with another request.
   */
  submit(request: GenerateRequest, image?: VerifiedImage, idempotencyKey?: string): { job: JobView; created: boolean } {
    const { image: _data, ...shown } = request;
    const requestHash = createHash('sha256').update(JSON.stringify(shown)).update(image?.sha256 ?? '').digest('hex');
    // a repeat answers with its job even when the queue is full; a new job needs room
    const repeat = idempotencyKey !== undefined && this.store.hasIdempotencyKey(idempotencyKey);
    if (!repeat && this.store.countByStatus('queued') >= this.options.maxQueued) {
      throw new EngineError('queue_full', `the queue is full (${this.options.maxQueued} jobs waiting); try again later`);
    }
    const { job, created } = this.store.insert({
      id: randomUUID(),
      request: shown,
      requestHash,
      ...(image ? { reference: { sha256: image.sha256, type: image.type, width: image.width, height: image.height, bytes: image.bytes }, referenceFile: image.file } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    if (created && this.dispatcher) this.dispatcher.enqueue(job, this.previewEvery(job));
    if (created) this.options.onJobAccepted?.(this.view(job));
    this.pump();
    return { job: this.view(job), created };
  }

  get(id: string): JobView | undefined {
    const job = this.store.get(id);
    return job && this.view(job);
  }

  /** Jobs, newest first, a page at a time; `next_cursor` is absent on the last page. */
  list(options: { status?: JobStatus; limit: number; cursor?: number }): { jobs: JobView[]; next_cursor?: number } {
    const jobs = this.store.list(options);
    const last = jobs.at(-1);
    return { jobs: jobs.map((j) => this.view(j)), ...(jobs.length === options.limit && last ? { next_cursor: last.seq } : {}) };
  }

  /** Cancels a queued job at once, a running one at its next step; returns its view, or undefined for an unknown id. */
  cancel(id: string): JobView | undefined {
    const job = this.store.get(id);
    if (!job) return undefined;
    if (job.status === 'queued') {
      this.store.finish(id, 'cancelled', { error: { code: 'cancelled', message: 'cancelled before it started' } });
      this.dispatcher?.cancel(id);
      this.ended(id);
    } else if (job.status === 'running') {
      if (this.dispatcher) this.dispatcher.cancel(id);
      else this.running.get(id)?.controller.abort();
    }
    return this.get(id);
  }

  /** Expected milliseconds until a job ends: its remaining steps and the rest of its work, plus the jobs ahead. */
  private etaMs(job: StoredJob, running: Running | undefined, position: number): number | null {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    if (running) {
      // the running job: its own step times so far (or the average), and the rest of a job's work (decoding)
      const stepMs = running.stepMs.length ? mean(running.stepMs) : this.stepAverage;
      if (stepMs === undefined) return null;
      const left = running.progress.total_steps - running.progress.step;
      return Math.round(left * stepMs + (running.progress.stage === 'decode' || running.progress.stage === 'layout' ? 0 : (this.restAverage ?? 0) / 2));
    }
    if (this.stepAverage === undefined || this.restAverage === undefined) return null;
    const jobMs = (steps: number) => steps * this.stepAverage! + this.restAverage!;
    const [first] = this.running.values();
    const current = first ? this.etaMs(this.store.get(first.id)!, first, 0) ?? 0 : 0;
    const waiting = Math.max(0, position - this.running.size) * jobMs(job.request.num_inference_steps);
    return Math.round(current + waiting + jobMs(job.request.num_inference_steps));
  }

  /** The job's state as a progress event (for its event stream). */
  progressData(id: string): ProgressData | undefined {
    const job = this.store.get(id);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return undefined;
    const running = this.running.get(id);
    const view = this.view(job);
    return {
      status: job.status,
      stage: view.progress.stage,
      step: view.progress.step,
      total: view.progress.total_steps,
      eta_ms: this.etaMs(job, running, view.queue_position),
      queue_position: view.queue_position,
      ...(running?.preview ? { preview: running.preview } : {}),
    };
  }

  /** Tells watched queued jobs their new place in the queue. */
  private queueMoved(): void {
    for (const id of this.events.listenedJobs()) {
      if (this.running.has(id)) continue;
      const data = this.progressData(id);
      if (data) this.events.publish(id, 'progress', data);
    }
  }

  /** Publishes a job's end to its stream. */
  private ended(id: string): void {
    const job = this.store.get(id);
    const view = job && this.view(job);
    if (view) this.events.publish(id, 'done', view);
    this.queueMoved();
    if (view) this.options.onJobEnded?.(view);
  }

  /** Jobs waiting. */
  depth(): number {
    return this.store.countByStatus('queued');
  }

  /** For shutdown: takes no new job and resolves when the running one has ended (queued jobs stay queued). */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.dispatcher) while (this.running.size) await this.idle;
  }

  /**
   * For a stop that cannot wait any longer (after `close`): stops the job running here at its next step and
   * puts it back in the queue without counting this start (`JobStore.requeueUnstarted`); a job that ends
   * otherwise first keeps its ending. Jobs on remote workers are left to them.
   * @returns the ids put back in the queue, once the running job has stopped.
   */
  async interrupt(): Promise<string[]> {
    if (this.dispatcher || this.options.remote) return [];
    const ids = [...this.running.values()].map((running) => {
      running.interrupted = true;
      running.controller.abort();
      return running.id;
    });
    while (this.running.size) await this.idle;
    return ids.filter((id) => this.store.get(id)?.status === 'queued');
  }

  private view(job: StoredJob): JobView {
    const live = this.running.get(job.id);
    return {
      id: job.id,
      status: job.status,
      request: job.request,
      ...(job.reference ? { reference_image: { type: job.reference.type, width: job.reference.width, height: job.reference.height, bytes: job.reference.bytes } } : {}),
      queue_position: job.status === 'queued' ? this.store.queuedBefore(job.seq) + this.running.size : 0,
      progress: live?.progress ?? (job.result
        ? { stage: 'decode', step: job.result.step_ms.length, total_steps: job.result.step_ms.length }
        : { stage: 'queued', step: 0, total_steps: job.request.num_inference_steps }),
      ...(job.result ? { result: job.result } : {}),
      ...(job.error ? { error: job.error } : {}),
      ...(job.nodes ? { nodes: job.nodes } : {}),
      attempts: job.attempts,
      created_at: job.created_at,
      ...(job.started_at ? { started_at: job.started_at } : {}),
      ...(job.finished_at ? { finished_at: job.finished_at } : {}),
    };
  }

  /** Starts tracking a job that has started (here or on a worker). */
  private begin(job: StoredJob): Running {
    const now = this.options.now ?? (() => performance.now());
    const started = now();
    const running: Running = { id: job.id, started, controller: new AbortController(), progress: { stage: 'load', step: 0, total_steps: job.request.num_inference_steps }, stepStarted: started, stepMs: [] };
    this.running.set(job.id, running);
    this.queueMoved();
    this.options.onJobStarted?.(this.view(job));
    return running;
  }

  /** Applies a pipeline event to a running job and publishes its progress. */
  private handle(running: Running, event: RenderEvent): void {
    const now = this.options.now ?? (() => performance.now());
    if (event.stage === 'preview') {
      // the pipeline hands a step's preview just before the step's progress event, which carries it
      running.preview = `data:image/png;base64,${Buffer.from(event.png).toString('base64')}`;
      return;
    }
    if (event.stage === 'denoise') {
      const t = now();
      if (event.step > 0) running.stepMs.push(t - running.stepStarted);
      running.stepStarted = t;
      running.progress = { stage: 'denoise', step: event.step, total_steps: event.totalSteps };
    } else {
      running.progress = { ...running.progress, stage: event.stage };
    }
    this.events.publish(running.id, 'progress', this.progressData(running.id));
    delete running.preview;
  }

  /** Records a job's end (once: a job already ended keeps its first ending) and starts the next. */
  private complete(running: Running, outcome: JobOutcome): void {
    const now = this.options.now ?? (() => performance.now());
    if (running.interrupted && 'error' in outcome && outcome.error.code === 'cancelled') {
      this.store.requeueUnstarted(running.id);
      this.running.delete(running.id);
      return;
    }
    const nodes = outcome.nodes ? { nodes: outcome.nodes } : {};
    if ('result' in outcome) {
      this.store.finish(running.id, 'succeeded', { result: { ...outcome.result, step_ms: running.stepMs.map((ms) => Math.round(ms * 10) / 10) }, ...nodes });
      if (running.stepMs.length) {
        const stepMs = running.stepMs.reduce((a, b) => a + b, 0) / running.stepMs.length;
        const restMs = Math.max(0, now() - running.started - running.stepMs.reduce((a, b) => a + b, 0));
        const mix = (old: number | undefined, x: number) => (old === undefined ? x : old * 0.8 + x * 0.2);
        this.stepAverage = mix(this.stepAverage, stepMs);
        this.restAverage = mix(this.restAverage, restMs);
      }
    } else {
      this.store.finish(running.id, outcome.error.code === 'cancelled' ? 'cancelled' : 'failed', { error: outcome.error, ...nodes });
    }
    this.running.delete(running.id);
    this.ended(running.id);
    this.pump();
  }

  /** A remote worker started the job (its `attempts`-th start). */
  remoteStarted(id: string, attempts: number): void {
    const job = this.store.markRunning(id, attempts);
    if (job && !this.running.has(id)) this.begin(job);
  }

  /** A remote worker reported a pipeline event of the job. */
  remoteEvent(id: string, event: RenderEvent): void {
    const running = this.running.get(id);
    if (running) this.handle(running, event);
  }

  /** A remote worker ended the job (or the queue gave up on it). */
  remoteFinished(id: string, outcome: JobOutcome): void {
    const job = this.store.get(id);
    if (!job || (job.status !== 'queued' && job.status !== 'running')) return;
    this.complete(this.running.get(id) ?? this.begin(job), outcome);
  }

  private pump(): void {
    if (this.running.size || this.closed || this.dispatcher || this.options.remote) return;
    const loaded = this.options.loadedModel?.();
    const job = this.store.claimNext(loaded !== undefined ? { model: loaded, maxWaitMs: this.options.maxWaitMs ?? 120_000 } : undefined);
    if (!job) return;
    const running = this.begin(job);
    this.idle = (async () => {
      let outcome: Parameters<JobQueue['complete']>[1];
      try {
        const request: GenerateRequest = { ...job.request };
        if (job.reference) {
          const stored = this.store.referenceFile(job.reference.sha256)!;
          request.image = `data:${stored.type};base64,${Buffer.from(stored.file).toString('base64')}`;
        }
        const { nodes, ...result } = await this.runner({ id: job.id, request, previewEvery: this.previewEvery(job) }, (event) => this.handle(running, event), running.controller.signal);
        outcome = { result, ...(nodes ? { nodes } : {}) };
      } catch (error) {
        const nodes = nodesOf(error);
        outcome = { error: describeError(error), ...(nodes ? { nodes } : {}) };
      }
      this.complete(running, outcome);
    })();
  }
}
