/**
 * Scale-out on Redis with BullMQ: the API (in this process, REDIS_URL set) enqueues, two `npm run worker`
 * processes render; one is killed with SIGKILL mid-job and its job is run again by the other. Progress, previews
 * and cancels cross processes; every accepted job ends; images equal a single-process render.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS_DIR, ROOT } from '../helpers/fixture.ts';
import { startRedis, type RunningRedis } from '../helpers/redis.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { events, readEvents } from '../helpers/sse.ts';

interface Worker {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
}

let redis: RunningRedis;
let server: RunningServer;
const workers: Worker[] = [];

function startWorker(): Promise<Worker> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/scaleout/worker.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: redis.url, MODELS_DIR, WORKER_LOCK_MS: '1500', WORKER_STALLED_INTERVAL_MS: '500', JOB_MAX_ATTEMPTS: '2' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const worker: Worker = { proc, lines: [] };
  workers.push(worker);
  let buffer = '';
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        worker.lines.push(entry);
        if (entry.msg === 'worker ready') resolve(worker);
      }
    });
  });
}

beforeAll(async () => {
  redis = await startRedis();
  server = await startServer({ redisUrl: redis.url, previewEvery: 2 });
  await Promise.all([startWorker(), startWorker()]);
});
afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await server?.close();
  await redis?.stop();
});

const body = (seed: number, steps: number, side = 64) => ({ prompt: 'a bouquet of tulips in a flower shop window', width: side, height: side, seed, num_inference_steps: steps });
const submit = async (b: unknown) => {
  const response = await fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string };
};
async function finished(id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 1200; i++) {
    const job = await (await fetch(`${server.url}/api/generations/${id}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}
const until = async (check: () => boolean) => {
  for (let i = 0; i < 1200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
};

describe('scale-out on Redis with BullMQ', () => {
  it('workers render what the API accepts, with progress and previews over SSE, the same pixels as one process', async () => {
    const job = await submit(body(21, 6, 128));
    const { items } = await readEvents(`${server.url}/api/generations/${job.id}/events`, { until: (i) => i.kind === 'event' && i.event === 'done' });
    const all = events<Record<string, any>>(items);
    expect(all.filter((e) => e.data.stage === 'denoise').map((e) => e.data.step)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(all.filter((e) => e.data.preview).map((e) => e.data.step)).toEqual([2, 4, 6]);
    const done = all.at(-1)!;
    expect(done).toMatchObject({ event: 'done', data: { status: 'succeeded', attempts: 1 } });
    const image = await fetch(`${server.url}${done.data.image_url}`);
    expect(image.status).toBe(200);

    // the same request in a server without Redis gives the same image
    const local = await startServer();
    try {
      const response = await fetch(`${local.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(21, 6, 128)) });
      const { id } = await response.json();
      let view: Record<string, any> = {};
      for (let i = 0; i < 600 && !['succeeded', 'failed'].includes(view.status); i++) {
        await new Promise((r) => setTimeout(r, 50));
        view = await (await fetch(`${local.url}/api/generations/${id}`)).json();
      }
      expect(view.result.sha256).toBe(done.data.result.sha256);
    } finally {
      await local.close();
    }
  });

  it('a worker killed with SIGKILL mid-job: the other worker runs it again; every accepted job ends succeeded', async () => {
    const jobs = await Promise.all([0, 1, 2, 3, 4, 5].map((k) => submit(body(30 + k, 40, 128))));
    // wait until some worker has started a job, then kill that worker
    let victim: Worker | undefined;
    let victimJob: string | undefined;
    await until(() => {
      for (const w of workers) {
        const started = w.lines.filter((l) => l.msg === 'job started' && jobs.some((j) => j.id === l.job_id));
        if (started.length) {
          victim = w;
          victimJob = started.at(-1)!.job_id as string;
        }
      }
      return victim !== undefined;
    });
    victim!.proc.kill('SIGKILL');
    const ended = await Promise.all(jobs.map((j) => finished(j.id)));
    expect(ended.map((j) => j.status)).toEqual(jobs.map(() => 'succeeded'));
    expect(ended.find((j) => j.id === victimJob)!.attempts).toBe(2);
    const survivor = workers.find((w) => w !== victim && w.proc.exitCode === null)!;
    expect(survivor.lines.some((l) => l.msg === 'job succeeded' && l.job_id === victimJob)).toBe(true);
    workers.splice(workers.indexOf(victim!), 1);
    await startWorker();
  });

  it('cancel crosses processes: running jobs stop at their next step, a queued one never starts', async () => {
    const first = await submit(body(50, 150, 128));
    const second = await submit(body(51, 150, 128));
    const queued = await submit(body(52, 2));
    // both workers busy: one job reports steps, the other has started
    await readEvents(`${server.url}/api/generations/${first.id}/events`, { until: (i) => i.kind === 'event' && JSON.parse(i.data).step >= 2 });
    await until(() => workers.some((w) => w.lines.some((l) => l.msg === 'job started' && l.job_id === second.id)));
    const stream = readEvents(`${server.url}/api/generations/${queued.id}/events`, { until: (i) => i.kind === 'event' && i.event === 'done' });
    for (const job of [queued, first, second]) expect((await fetch(`${server.url}/api/generations/${job.id}`, { method: 'DELETE' })).status).toBe(200);
    for (const job of [first, second]) {
      const end = await finished(job.id);
      expect(end).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect(end.progress.step).toBeLessThan(150);
    }
    expect(events((await stream).items).at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled' } });
    expect(workers.some((w) => w.lines.some((l) => l.job_id === queued.id && l.msg === 'job started'))).toBe(false);
  });
});
