/** The job queue over an in-memory store: the queue bound holds for new Idempotency-Keys, repeats still answer. */
import { describe, expect, it } from 'vitest';
import { JobQueue } from '../../server/src/jobs/jobQueue.ts';
import { JobStore } from '../../server/src/jobs/jobStore.ts';
import { parseGenerateRequest } from '../../src/core/request.ts';

describe('JobQueue', () => {
  it('refuses a new job over maxQueued even with a fresh Idempotency-Key, and still answers a repeat', () => {
    const store = new JobStore(':memory:');
    // a runner that never finishes: the first job runs, the next ones wait
    const queue = new JobQueue(store, () => new Promise(() => {}), { maxQueued: 1, maxAttempts: 2 });
    const request = (seed: number) => parseGenerateRequest({ prompt: 'cafe', width: 64, height: 64, seed });
    queue.submit(request(1));
    const waiting = queue.submit(request(2), undefined, 'k-2');
    expect(waiting).toMatchObject({ created: true, job: { status: 'queued', queue_position: 1 } });
    expect(() => queue.submit(request(3), undefined, 'k-3')).toThrow(expect.objectContaining({ code: 'queue_full' }));
    expect(() => queue.submit(request(4))).toThrow(expect.objectContaining({ code: 'queue_full' }));
    expect(queue.submit(request(2), undefined, 'k-2')).toMatchObject({ created: false, job: { id: waiting.job.id } });
    expect(queue.depth()).toBe(1);
    store.close();
  });
});
