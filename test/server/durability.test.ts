/**
 * Jobs survive the server process being killed: a child server is sent SIGKILL while a job runs, restarted on
 * the same data folder, and every accepted job ends succeeded (its image served) or failed with a code;
 * none is unknown. Also: Idempotency-Key, listing after a restart, and the attempts bound.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AD_CASES } from '../../src/core/product/index.ts';
import { MODELS_DIR, ROOT } from '../helpers/fixture.ts';
import { freePort } from '../helpers/ports.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'ad-studio-durable-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Starts `server/src/main.ts` as a child process on `port` and waits until it answers. */
async function startChild(port: number, env: Record<string, string> = {}): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, MODELS_DIR, STATIC_DIR: join(dataDir, 'no-app'), LOG_LEVEL: 'warn', DAILY_QUOTA: '0', RATE_LIMIT_MAX: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.ok, () => false);
    if (ok) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

const cafe = AD_CASES[0]!;
const request = (seed: number, steps: number, side = 64) => ({ prompt: cafe.prompt, width: side, height: side, seed, num_inference_steps: steps });
const killed = async (proc: ChildProcess) => {
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
};

describe('jobs survive kill -9', () => {
  it('a server killed mid-run and restarted ends every accepted job; finished jobs stay listed with their images', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const post = (body: unknown, key?: string) =>
      fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) }, body: JSON.stringify(body) });
    child = await startChild(port);

    // one quick job that finishes before the kill
    const first = await (await post(request(1, 2))).json();
    for (let i = 0; i < 200 && (await (await fetch(`${base}/api/generations/${first.id}`)).json()).status !== 'succeeded'; i++) await new Promise((r) => setTimeout(r, 50));

    // a long job (256x256, 150 steps) and five behind it, one with an idempotency key
    const long = await post(request(2, 150, 256));
    expect(long.status).toBe(202);
    const ids = [(await long.json()).id as string];
    for (let i = 0; i < 4; i++) ids.push((await (await post(request(10 + i, 3))).json()).id);
    const keyed = await post(request(20, 3), 'order-20');
    expect(keyed.status).toBe(202);
    const keyedJob = await keyed.json();
    ids.push(keyedJob.id);
    const again = await post(request(20, 3), 'order-20');
    expect(again.status).toBe(200);
    expect((await again.json()).id).toBe(keyedJob.id);
    expect((await post(request(21, 3), 'order-20')).status).toBe(422);

    // kill while the long job is denoising
    for (let i = 0; i < 600; i++) {
      const job = await (await fetch(`${base}/api/generations/${ids[0]}`)).json();
      if (job.status === 'running' && job.progress.step >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await (await fetch(`${base}/api/generations/${ids[0]}`)).json()).status).toBe('running');
    await killed(child);

    child = await startChild(port);
    const finished: Record<string, any>[] = [];
    for (const id of [first.id, ...ids]) {
      let job: Record<string, any> = {};
      for (let i = 0; i < 1200; i++) {
        const response = await fetch(`${base}/api/generations/${id}`);
        expect(response.status, `job ${id} after the restart`).toBe(200);
        job = await response.json();
        if (!['queued', 'running'].includes(job.status)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      finished.push(job);
    }
    for (const job of finished) {
      expect(['succeeded', 'failed']).toContain(job.status);
      if (job.status === 'failed') expect(job.error.code).toBeTruthy();
      if (job.status === 'succeeded') expect((await fetch(`${base}${job.image_url}`)).status).toBe(200);
    }
    // the interrupted job ran again: a second attempt, with every step timed
    expect(finished[1]).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(finished[1]!.result.step_ms).toHaveLength(150);
    expect(finished[0]).toMatchObject({ status: 'succeeded', attempts: 1 });

    const page = await (await fetch(`${base}/api/generations?status=succeeded&limit=4`)).json();
    expect(page.jobs).toHaveLength(4);
    const rest = await (await fetch(`${base}/api/generations?status=succeeded&limit=4&cursor=${page.next_cursor}`)).json();
    expect([...page.jobs, ...rest.jobs].map((j: { id: string }) => j.id).sort()).toEqual([first.id, ...ids].sort());

    // with one attempt allowed, a job killed mid-run fails as interrupted
    const doomed = (await (await post(request(30, 150, 256))).json()).id;
    for (let i = 0; i < 600; i++) {
      const job = await (await fetch(`${base}/api/generations/${doomed}`)).json();
      if (job.status === 'running' && job.progress.step >= 1) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await killed(child);
    child = await startChild(port, { JOB_MAX_ATTEMPTS: '1' });
    const job = await (await fetch(`${base}/api/generations/${doomed}`)).json();
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'interrupted' } });
    await killed(child);
    child = undefined;
  }, 180_000);
});
