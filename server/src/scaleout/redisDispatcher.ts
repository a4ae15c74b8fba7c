import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { ProgressEvent } from '../../../src/core/types.ts';
import type { ImageStore } from '../images/imageStore.ts';
import type { JobDispatcher, JobQueue } from '../jobs/jobQueue.ts';
import type { JobStore, StoredJob } from '../jobs/jobStore.ts';
import { CANCEL_CHANNEL, cancelledKey, KEY_TTL_S, QUEUE_NAME, rawResultKey, resultKey, type WorkerJobData, type WorkerProgress, type WorkerReturn } from './protocol.ts';

/**
 * The API side of scale-out: new jobs go to a BullMQ queue that `npm run worker` processes render; their
 * starts, progress and ends come back through BullMQ's queue events and update the SQLite job store (the
 * source of truth) and the progress streams. On start it reconciles the store with Redis: jobs that ended while
 * the API was down are recorded, jobs Redis lost are enqueued again.
 */
export class RedisDispatcher implements JobDispatcher {
  private readonly connection: Redis;
  private readonly queue: Queue<WorkerJobData, WorkerReturn>;
  private readonly queueEvents: QueueEvents;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(redisUrl: string, private readonly store: JobStore, private readonly jobs: JobQueue, private readonly images: ImageStore, private readonly log: (message: string) => void = () => undefined) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.queue = new Queue(QUEUE_NAME, { connection: this.connection });
    this.queueEvents = new QueueEvents(QUEUE_NAME, { connection: { url: redisUrl } as never });
    this.queueEvents.on('progress', ({ jobId, data }) => this.onProgress(jobId, data as WorkerProgress));
    this.queueEvents.on('completed', ({ jobId }) => this.track(this.onCompleted(jobId)));
    this.queueEvents.on('failed', ({ jobId, failedReason }) => this.onFailed(jobId, failedReason));
  }

  private track<T>(work: Promise<T>): void {
    const p = work.catch((error: unknown) => this.log(`scale-out: ${(error as Error).message}`)).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  /** Waits for the queue events connection, then reconciles the store with what Redis holds. */
  async start(): Promise<void> {
    await this.queueEvents.waitUntilReady();
    const open = [...this.store.list({ status: 'running', limit: 100_000 }), ...this.store.list({ status: 'queued', limit: 100_000 })];
    for (const job of open.sort((a, b) => a.seq - b.seq)) await this.reconcile(job);
  }

  private async reconcile(stored: StoredJob): Promise<void> {
    const job = await Job.fromId<WorkerJobData, WorkerReturn>(this.queue, stored.id);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'completed') await this.onCompleted(stored.id);
    else if (state === 'failed') this.onFailed(stored.id, job?.failedReason ?? 'failed');
    else if (state === 'active' && job) this.jobs.remoteStarted(stored.id, job.attemptsStarted);
    else if (state === 'unknown') this.enqueue(stored, this.jobs.previewEvery(stored));
  }

  enqueue(job: StoredJob, previewEvery: number): void {
    this.track((async () => {
      const request = { ...job.request } as WorkerJobData['request'];
      if (job.reference) {
        const file = this.store.referenceFile(job.reference.sha256)!;
        request.image = `data:${file.type};base64,${Buffer.from(file.file).toString('base64')}`;
      }
      await this.queue.add('generate', { id: job.id, request, previewEvery }, { jobId: job.id, removeOnComplete: { age: KEY_TTL_S }, removeOnFail: { age: KEY_TTL_S } });
    })());
  }

  cancel(id: string): void {
    this.track((async () => {
      await this.connection.set(cancelledKey(id), '1', 'EX', KEY_TTL_S);
      const job = await Job.fromId(this.queue, id);
      // a waiting job is removed; an active one is locked by its worker, which the message reaches
      if (job && (await job.getState()) !== 'active') await job.remove().catch(() => undefined);
      await this.connection.publish(CANCEL_CHANNEL, id);
    })());
  }

  private onProgress(id: string, progress: WorkerProgress): void {
    if (progress.kind === 'started') this.jobs.remoteStarted(id, progress.attempts);
    else if (progress.kind === 'preview') this.jobs.remoteEvent(id, { stage: 'preview', step: progress.step, png: Buffer.from(progress.png_base64, 'base64') });
    else this.jobs.remoteEvent(id, progress.event as ProgressEvent);
  }

  private async onCompleted(id: string): Promise<void> {
    const job = await Job.fromId<WorkerJobData, WorkerReturn>(this.queue, id);
    const outcome = job?.returnvalue;
    if (!outcome) return;
    const nodes = outcome.nodes ? { nodes: outcome.nodes } : {};
    if (!outcome.ok) {
      this.jobs.remoteFinished(id, { error: outcome.error, ...nodes });
      return;
    }
    const png = await this.connection.getBuffer(resultKey(id));
    const rawPng = outcome.raw ? await this.connection.getBuffer(rawResultKey(id)) : undefined;
    if (!png || rawPng === null) {
      this.jobs.remoteFinished(id, { error: { code: 'internal', message: 'the worker finished but its image is gone from Redis' }, ...nodes });
      return;
    }
    const sha256 = await this.images.put(new Uint8Array(png));
    const raw = rawPng ? { raw_sha256: await this.images.put(new Uint8Array(rawPng)) } : {};
    this.jobs.remoteFinished(id, { result: { ...outcome.result, sha256, ...raw }, ...nodes });
    await this.connection.del(resultKey(id), rawResultKey(id));
  }

  private onFailed(id: string, reason: string): void {
    this.jobs.remoteFinished(id, { error: { code: 'interrupted', message: `the job was lost by its workers and not run again (${reason})` } });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.queueEvents.close();
    await this.queue.close();
    await this.connection.quit().catch(() => undefined);
  }
}
