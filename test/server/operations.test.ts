/**
 * Operations over real HTTP on loopback: the OpenAPI document and Swagger UI at /docs (in Chromium too, with
 * the app's COOP/COEP headers), /healthz and /readyz, Prometheus /metrics after generations; and, on child
 * server processes: a SIGTERM mid-job that lets the job finish, one that puts it back in the queue, JSON log
 * lines with job ids, and the one-line message for a port in use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Value from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENTED_ROUTES } from '../../server/src/http/openapi.ts';
import { HealthSchema, JobListSchema, JobSchema, ModelsSchema, QuotaSchema, ReadinessSchema } from '../../server/src/http/apiSchemas.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { GenerateRequestSchema } from '../../src/core/request.ts';
import { launchBrowser } from '../helpers/browser.ts';
import { FIXTURE_ID, MODELS_DIR, ROOT } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { readEvents } from '../helpers/sse.ts';
import { freePort } from '../helpers/ports.ts';

const cafe = AD_CASES[0]!;
const request = (seed: number, steps: number, side = 64) => ({ prompt: cafe.prompt, width: side, height: side, seed, num_inference_steps: steps });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls a job until it has ended (or `until` holds). */
async function waitForJob(base: string, id: string, until: (job: Record<string, any>) => boolean = (job) => !['queued', 'running'].includes(job.status)): Promise<Record<string, any>> {
  for (let i = 0; i < 2400; i++) {
    const job = await (await fetch(`${base}/api/generations/${id}`)).json();
    if (until(job)) return job;
    await sleep(50);
  }
  throw new Error(`job ${id} did not get there`);
}

/** Keys of a real answer that its documentation schema does not name. */
const undocumented = (value: Record<string, unknown>, schema: { properties: Record<string, unknown> }) => Object.keys(value).filter((k) => !(k in schema.properties));

describe('operations endpoints (in-process server)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => server?.close());
  const post = (body: unknown) => fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('/docs serves Swagger UI and an OpenAPI 3.1 document whose POST /api/generations body is the request schema', async () => {
    const page = await fetch(`${server.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('swagger-ui-bundle.js');

    const doc = await (await fetch(`${server.url}/docs/json`)).json();
    expect(doc.openapi).toBe('3.1.0');
    const submit = doc.paths['/api/generations'].post;
    const body = submit.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties).sort()).toEqual(Object.keys(GenerateRequestSchema.properties).sort());
    expect(body.properties.width).toMatchObject({ type: 'integer', minimum: 32, maximum: 2048, multipleOf: 8 });
    expect(body.additionalProperties).toBe(false);
    // what a client must send: the fields without a default (and `prompt` or `ad.text`, which the route checks)
    expect(body.required.sort()).toEqual(['height', 'seed', 'width']);
    expect(body.properties.ad.properties.copy.properties.headline).toMatchObject({ type: 'string', maxLength: 60 });
    expect(Object.keys(submit.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '413', '422', '429', '503']));
    expect(submit.parameters).toEqual([expect.objectContaining({ in: 'header', name: 'idempotency-key' })]);
    // every documented route is in the document, and nothing else (the app's files, Swagger UI's own routes)
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) => Object.keys(methods).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations).toHaveLength(DOCUMENTED_ROUTES.length);
    for (const op of ['GET /api/generations/{id}/events', 'DELETE /api/generations/{id}', 'GET /healthz', 'GET /readyz', 'GET /metrics', 'GET /models/{id}/{path}']) expect(operations).toContain(op);
    expect((await fetch(`${server.url}/docs/yaml`)).status).toBe(200);
  });

  it('schemas are for the document only: the routes still validate the whole request themselves', async () => {
    const bad: Record<string, unknown> = { prompt: 5, width: 65, num_inference_steps: 0, seed: -1 };
    for (let i = 0; i < 10; i++) bad[`extra_${i}`] = i;
    const response = await post(bad);
    expect(response.status).toBe(400);
    const fields = (await response.json()).error.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['(body)', 'prompt', 'width', 'height', 'num_inference_steps', 'seed']));
  });

  it('Swagger UI renders in Chromium under the app\'s cross-origin isolation', async () => {
    const browser = await launchBrowser({ webgpu: false, incognito: true });
    try {
      const failures: string[] = [];
      browser.page.on('requestfailed', (r) => failures.push(`${r.url()} ${r.failure()?.errorText}`));
      browser.page.on('console', (m) => {
        if (m.type() === 'error') failures.push(m.text());
      });
      await browser.page.goto(`${server.url}/docs`);
      await browser.page.locator('.opblock').first().waitFor({ timeout: 30_000 });
      expect(await browser.page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await browser.page.locator('.opblock').count()).toBe(DOCUMENTED_ROUTES.length + 1); // GET /models/{id}/{path} also shows HEAD
      await expect(browser.page.locator('.opblock-summary-path', { hasText: '/api/generations/{id}/events' }).count()).resolves.toBe(1);
      expect(failures).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('/healthz answers; /readyz reports the execution provider, the loaded checkpoint and the queue depth', async () => {
    expect(await (await fetch(`${server.url}/healthz`)).json()).toEqual({ ok: true });
    const before = await fetch(`${server.url}/readyz`);
    expect(before.status).toBe(200);
    const ready = await before.json();
    expect(Value.Check(ReadinessSchema, ready)).toBe(true);
    expect(ready).toEqual({ ready: true, execution_provider: 'cpu', loaded_model: null, queue: { depth: 0, running: 0 } });

    // a long job runs, two wait behind it (the queue claims the first synchronously on submit)
    const ids: string[] = [];
    for (const [seed, steps, side] of [[1, 150, 256], [2, 2, 64], [3, 2, 64]] as const) ids.push((await (await post(request(seed, steps, side))).json()).id);
    const busy = await (await fetch(`${server.url}/readyz`)).json();
    expect(busy.queue).toEqual({ depth: 2, running: 1 });
    await waitForJob(server.url, ids[0]!, (job) => job.status === 'running' && job.progress.step >= 1);
    for (const id of ids) await fetch(`${server.url}/api/generations/${id}`, { method: 'DELETE' });
    for (const id of ids) await waitForJob(server.url, id);
    const done = await (await fetch(`${server.url}/readyz`)).json();
    expect(done).toMatchObject({ ready: true, loaded_model: FIXTURE_ID, queue: { depth: 0, running: 0 } });
  });

  it('answers match their documented schemas', async () => {
    const accepted = await (await post(request(9, 3))).json();
    expect(Value.Check(JobSchema, accepted)).toBe(true);
    const job = await waitForJob(server.url, accepted.id);
    expect(job.status).toBe('succeeded');
    expect(Value.Check(JobSchema, job), JSON.stringify([...Value.Errors(JobSchema, job)].slice(0, 3))).toBe(true);
    expect(undocumented(job, JobSchema)).toEqual([]);
    expect(undocumented(job.result, JobSchema.properties.result)).toEqual([]);
    const list = await (await fetch(`${server.url}/api/generations?limit=2`)).json();
    expect(Value.Check(JobListSchema, list)).toBe(true);
    for (const [path, schema] of [['/api/quota', QuotaSchema], ['/api/models', ModelsSchema], ['/api/health', HealthSchema]] as const) {
      const answer = await (await fetch(`${server.url}${path}`)).json();
      expect(Value.Check(schema, answer), path).toBe(true);
      expect(undocumented(answer, schema), path).toEqual([]);
    }
  });

  it('/metrics: jobs by state, a denoising step histogram and a queue wait histogram, with counts after generations', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) ids.push((await (await post(request(20 + i, 3 + i))).json()).id);
    for (const id of ids) expect((await waitForJob(server.url, id)).status).toBe('succeeded');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    const value = (name: string) => {
      const line = text.split('\n').find((l) => l.startsWith(`${name} `));
      return line === undefined ? undefined : Number(line.slice(name.length + 1));
    };
    // every job of this server, by state, from the job database
    const all = (await (await fetch(`${server.url}/api/generations?limit=100`)).json()).jobs as Record<string, any>[];
    const byStatus = (status: string) => all.filter((j) => j.status === status).length;
    for (const status of ['queued', 'running', 'succeeded', 'failed', 'cancelled']) expect(value(`ad_studio_jobs{status="${status}"}`), status).toBe(byStatus(status));
    expect(byStatus('succeeded')).toBeGreaterThanOrEqual(3);
    // one step observation per step of every succeeded job; one queue wait per start
    const steps = all.filter((j) => j.status === 'succeeded').reduce((n, j) => n + j.result.step_ms.length, 0);
    expect(value(`ad_studio_denoise_step_seconds_count{model="${FIXTURE_ID}"}`)).toBe(steps);
    expect(value(`ad_studio_denoise_step_seconds_bucket{le="+Inf",model="${FIXTURE_ID}"}`)).toBe(steps);
    const starts = all.reduce((n, j) => n + j.attempts, 0);
    expect(value(`ad_studio_queue_wait_seconds_count{model="${FIXTURE_ID}"}`)).toBe(starts);
    expect(value(`ad_studio_queue_wait_seconds_sum{model="${FIXTURE_ID}"}`)).toBeGreaterThanOrEqual(0);
    // fastify-metrics' per-route durations and process metrics
    expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/generations",status_code="202"\} \d+/);
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('/readyz is a 503 with the error code when the render engine cannot start', async () => {
    // onnxruntime-node's CUDA provider is not installed here (see README, CUDA): the render worker cannot start
    const broken = await startServer({ executionProvider: 'cuda' });
    try {
      const response = await fetch(`${broken.url}/readyz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ ready: false, error: { code: 'execution_provider_unavailable' } });
      expect((await fetch(`${broken.url}/healthz`)).status).toBe(200);
    } finally {
      await broken.close();
    }
  });
});

describe('the server process: graceful stop, JSON logs, a port in use', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ad-studio-ops-'));
  const children: ChildProcess[] = [];
  let blocker: Server | undefined;
  afterAll(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    blocker?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  interface Child {
    proc: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<number | null>;
  }

  /** Runs `server/src/main.ts` on `port` with the shared data folder; resolves once it answers (unless `wait` is false). */
  async function startChild(port: number, env: Record<string, string> = {}, wait = true): Promise<Child> {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, MODELS_DIR, STATIC_DIR: join(dataDir, 'no-app'), LOG_LEVEL: 'info', DAILY_QUOTA: '0', RATE_LIMIT_MAX: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(proc);
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => (out += d));
    proc.stderr!.on('data', (d: Buffer) => (err += d));
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    const child = { proc, stdout: () => out, stderr: () => err, exited };
    if (!wait) return child;
    for (let i = 0; i < 600; i++) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}: ${err}`);
      if (await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false)) return child;
      await sleep(100);
    }
    throw new Error('server did not start');
  }

  /** The child's JSON log lines. */
  const logLines = (child: Child) => child.stdout().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);

  it('SIGTERM mid-job: the running job finishes, queued jobs stay queued, open streams end, exit 0; JSON logs carry job ids', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const post = (body: unknown) => fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // a grace far longer than the job: the stop waits for it, whatever the machine's speed
    const child = await startChild(port, { SHUTDOWN_GRACE_MS: '600000' });
    const long = (await (await post(request(1, 60, 256))).json()).id as string;
    const waiting = (await (await post(request(2, 3))).json()).id as string;
    await waitForJob(base, long, (job) => job.status === 'running' && job.progress.step >= 1);
    // a client following the queued job (its first event is in): its stream must not hold the server open
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const stream = readEvents(`${base}/api/generations/${waiting}/events`, { until: () => (opened(), false) });
    await open;
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    const followed = await stream;
    expect(followed.status).toBe(200);
    expect(child.stderr()).not.toMatch(/FSTDEP|DeprecationWarning/);

    const logs = logLines(child);
    const index = (msg: string, id?: string) => logs.findIndex((l) => l.msg === msg && (id === undefined || l.job_id === id));
    const sigterm = logs.findIndex((l) => String(l.msg).startsWith('SIGTERM'));
    expect(sigterm).toBeGreaterThan(-1);
    expect(index('job accepted', long)).toBeGreaterThan(-1);
    expect(index('job started', long)).toBeGreaterThan(index('job accepted', long));
    // the job finished after the signal, before the process stopped
    expect(index('job finished', long)).toBeGreaterThan(sigterm);
    expect(index('stopped')).toBeGreaterThan(index('job finished', long));
    expect(logs[index('job finished', long)]).toMatchObject({ job_id: long, status: 'succeeded', attempt: 1, steps: 60, component: 'jobs', level: 30 });
    expect(logs[index('job finished', long)]!.duration_ms).toBeGreaterThan(0);
    expect(logs[index('job accepted', waiting)]).toMatchObject({ job_id: waiting, steps: 3, width: 64, model: FIXTURE_ID });
    expect(index('job started', waiting)).toBe(-1);

    // after a restart the finished job is there, and the queued one runs
    const again = await startChild(port);
    expect(await waitForJob(base, long)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(await waitForJob(base, waiting)).toMatchObject({ status: 'succeeded', attempts: 1 });
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 240_000);

  it('SIGTERM past SHUTDOWN_GRACE_MS: the running job goes back to the queue uncounted, exit 0, and succeeds after a restart', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = await startChild(port, { SHUTDOWN_GRACE_MS: '0' });
    const id = (await (await fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(3, 150, 256)) })).json()).id as string;
    await waitForJob(base, id, (job) => job.status === 'running' && job.progress.step >= 1);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
    expect(logLines(child).find((l) => String(l.msg).startsWith('job re-queued'))).toMatchObject({ job_id: id, level: 40 });

    const again = await startChild(port);
    // one start in all: the interrupted one was given back, not counted as a crash
    expect(await waitForJob(base, id)).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect((await waitForJob(base, id)).result.step_ms).toHaveLength(150);
    again.proc.kill('SIGTERM');
    expect(await again.exited).toBe(0);
  }, 240_000);

  it('a port in use: one plain line on stderr and exit 1', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const child = await startChild(port, {}, false);
    expect(await child.exited).toBe(1);
    expect(child.stderr()).toBe(`ad-studio: port ${port} on 127.0.0.1 is in use (another Ad Studio?): set PORT to another port\n`);
  }, 60_000);
});
