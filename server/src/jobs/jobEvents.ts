import { randomBytes } from 'node:crypto';

/** What one progress event says (snake_case JSON, the SSE `data` of `event: progress`). */
export interface ProgressData {
  status: 'queued' | 'running';
  stage: 'queued' | 'load' | 'encode' | 'denoise' | 'decode' | 'layout';
  step: number;
  total: number;
  /** Expected milliseconds until the job ends, from measured step and job times; null before any measure. */
  eta_ms: number | null;
  queue_position: number;
  /** A PNG of the latents (SDXL's linear latent-to-RGB approximation), as a data: URL, every few steps. */
  preview?: string;
}

/** One event of a job's stream. `id` is `<process epoch>-<n>`, increasing within one server process. */
export interface JobEvent {
  id: string;
  event: 'progress' | 'done';
  data: unknown;
}

interface Log {
  next: number;
  events: JobEvent[];
  listeners: Set<(event: JobEvent) => void>;
  ended: boolean;
}

/**
 * Per-job event logs for Server-Sent Events: each job's progress events in order, replayable after a
 * `Last-Event-ID`, and its `done` event. Logs live in memory (a job's durable state is the job store): a
 * reconnect to another server process, whose epoch differs, replays the job's whole log there. A job's log
 * is dropped at its `done` (a finished job's stream is its stored view) or when nobody listens to a queued
 * job any more.
 */
export class JobEvents {
  /** Distinguishes this process's event ids from a previous one's. */
  readonly epoch = randomBytes(4).toString('hex');
  private readonly logs = new Map<string, Log>();

  private log(jobId: string): Log {
    let log = this.logs.get(jobId);
    if (!log) this.logs.set(jobId, (log = { next: 1, events: [], listeners: new Set(), ended: false }));
    return log;
  }

  /** Appends an event to the job's log and hands it to its listeners. A `done` ends the log. */
  publish(jobId: string, event: JobEvent['event'], data: unknown): void {
    const log = this.log(jobId);
    if (log.ended) return;
    const entry: JobEvent = { id: `${this.epoch}-${log.next++}`, event, data };
    log.events.push(entry);
    for (const listener of log.listeners) listener(entry);
    if (event === 'done') {
      log.ended = true;
      log.listeners.clear();
      this.logs.delete(jobId);
    }
  }

  /** Ids of jobs someone listens to (to tell queued jobs their new place). */
  listenedJobs(): string[] {
    return [...this.logs].filter(([, log]) => log.listeners.size > 0 && !log.ended).map(([id]) => id);
  }

  /** The latest event of the job, if any. */
  latest(jobId: string): JobEvent | undefined {
    return this.logs.get(jobId)?.events.at(-1);
  }

  /**
   * Replays the job's events after `lastEventId` (all of them for an id of another process, or none given),
   * then hands new ones to `listener` until the `done` event or the returned unsubscribe.
   */
  subscribe(jobId: string, lastEventId: string | undefined, listener: (event: JobEvent) => void): () => void {
    const log = this.log(jobId);
    const [epoch, n] = lastEventId?.split('-') ?? [];
    const after = epoch === this.epoch && /^\d+$/.test(n ?? '') ? Number(n) : 0;
    for (const event of log.events) if (Number(event.id.split('-')[1]) > after) listener(event);
    if (log.ended) return () => undefined;
    log.listeners.add(listener);
    return () => {
      log.listeners.delete(listener);
      if (log.listeners.size === 0 && !log.ended && log.events.every((e) => (e.data as ProgressData).status === 'queued')) this.logs.delete(jobId);
    };
  }
}
