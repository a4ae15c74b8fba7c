/**
 * `npm run bench:server`: 1,000 submissions from 8 concurrent clients to a real server process on the tiny
 * fixture (the product's ad cases, 64x64-scale sizes, 4 steps), each client following its job's Server-Sent
 * Events to the end. Prints jobs lost (accepted and not ended: must be 0); per-job overhead = end-to-end time
 * (POST sent to `done` received) minus model time (the worker's generation time) minus queue wait (created_at
 * to started_at), p50 and p99 (goal at most 20 and 100 ms); throughput against the sum of model time; and the
 * server's event-loop delay during the run (goal p99 at most 20 ms); then the event-loop delay during one long
 * generation (1024x1024, 10 steps) whose UNet runs each take far longer than the goal. Last line: one JSON object.
 *   BENCH_JOBS (1000), BENCH_CLIENTS (8), BENCH_STEPS (4)
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { AD_CASES, sizeForAspectRatio } from '../src/core/product/index.ts';
import { MODELS_DIR, ROOT } from '../test/helpers/fixture.ts';
import { freePort } from '../test/helpers/ports.ts';
import { events, readEvents } from '../test/helpers/sse.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 1000);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const STEPS = Number(process.env.BENCH_STEPS ?? 4);

const dataDir = mkdtempSync(join(tmpdir(), 'ad-studio-bench-server-'));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = spawn(process.execPath, ['--import', 'tsx', '--import', './bench/eventLoopProbe.ts', 'server/src/main.ts'], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(port), DATA_DIR: dataDir, MODELS_DIR, STATIC_DIR: join(dataDir, 'no-app'), LOG_LEVEL: 'warn', DAILY_QUOTA: '0', RATE_LIMIT_MAX: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let serverOut = '';
server.stdout!.on('data', (chunk: Buffer) => (serverOut += chunk.toString()));
for (let i = 0; ; i++) {
  if (await fetch(`${base}/api/health`).then((r) => r.ok, () => false)) break;
  if (i > 600 || server.exitCode !== null) throw new Error('the server did not start');
  await new Promise((r) => setTimeout(r, 100));
}

interface Sample {
  e2eMs: number;
  modelMs: number;
  waitMs: number;
  overheadMs: number;
}
const samples: Sample[] = [];
const accepted = new Set<string>();
const ended = new Set<string>();
let submitted = 0;

async function client(k: number): Promise<void> {
  while (submitted < JOBS) {
    const n = submitted++;
    const adCase = AD_CASES[n % AD_CASES.length]!;
    const body = { prompt: n % 2 ? adCase.prompt_ko : adCase.prompt, ...sizeForAspectRatio(adCase.aspect_ratio, 64), seed: adCase.seed + n, num_inference_steps: STEPS };
    const sent = performance.now();
    const response = await fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `bench-${k}-${n}` }, body: JSON.stringify(body) });
    if (response.status !== 202) throw new Error(`submission ${n}: HTTP ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    accepted.add(id);
    const { items } = await readEvents(`${base}/api/generations/${id}/events`, { until: (i) => i.kind === 'event' && i.event === 'done' });
    const received = performance.now();
    const done = events<{ status: string; created_at: string; started_at: string; result: { timings: { totalMs: number } } }>(items).at(-1);
    if (done?.event !== 'done') continue;
    ended.add(id);
    const view = done.data;
    if (view.status !== 'succeeded') continue;
    const e2eMs = received - sent;
    const modelMs = view.result.timings.totalMs;
    const waitMs = Date.parse(view.started_at) - Date.parse(view.created_at);
    samples.push({ e2eMs, modelMs, waitMs, overheadMs: e2eMs - modelMs - waitMs });
  }
}

// warm up: one job loads the model
await client(-1).catch(() => undefined);
submitted = 0;
samples.length = 0;
accepted.clear();
ended.clear();

server.kill('SIGUSR1');
const started = performance.now();
await Promise.all(Array.from({ length: CLIENTS }, (_, k) => client(k)));
const wallMs = performance.now() - started;
type LoopDelay = { p50: number; p99: number; max: number; samples: number };
/** Asks the server's probe for the window's event-loop delay. */
async function loopDelay(): Promise<LoopDelay | undefined> {
  const before = serverOut.length;
  server.kill('SIGUSR2');
  for (let i = 0; i < 50 && !serverOut.slice(before).includes('event_loop_delay_ms'); i++) await new Promise((r) => setTimeout(r, 50));
  const line = serverOut.slice(before).split('\n').find((l) => l.includes('event_loop_delay_ms')) ?? '{}';
  return (JSON.parse(line) as { event_loop_delay_ms?: LoopDelay }).event_loop_delay_ms;
}
const eventLoop = await loopDelay();

// one long generation (1024x1024, 10 steps: each UNet run takes far longer than a tick) with one client watching:
// a model run on the HTTP thread would show here as event-loop delay of a whole step
server.kill('SIGUSR1');
const longStarted = performance.now();
const longJob = (await (await fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: AD_CASES[0]!.prompt, width: 1024, height: 1024, seed: 1, num_inference_steps: 10 }) })).json()) as { id: string };
const longEvents = await readEvents(`${base}/api/generations/${longJob.id}/events`, { until: (i) => i.kind === 'event' && i.event === 'done' });
const longMs = performance.now() - longStarted;
const longView = events<{ result?: { step_ms: number[] } }>(longEvents.items).at(-1)!.data;
const longLoop = await loopDelay();
const longStepMs = longView.result ? [...longView.result.step_ms].sort((a, b) => a - b)[Math.floor(longView.result.step_ms.length / 2)]! : null;

// jobs lost: every accepted job must be listed as ended
let lost = 0;
for (const id of accepted) {
  const view = (await (await fetch(`${base}/api/generations/${id}`)).json()) as { status?: string };
  if (!view.status || view.status === 'queued' || view.status === 'running') lost++;
}
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));
rmSync(dataDir, { recursive: true, force: true });

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const overhead = samples.map((s) => s.overheadMs);
const modelSum = samples.reduce((n, s) => n + s.modelMs, 0);
const round = (x: number) => Math.round(x * 10) / 10;
const result = {
  machine: `${cpus().length} cores (${cpus()[0]?.model.trim()}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
  jobs: JOBS,
  clients: CLIENTS,
  steps: STEPS,
  accepted: accepted.size,
  succeeded: samples.length,
  jobs_lost: lost,
  overhead_p50_ms: round(pct(overhead, 50)),
  overhead_p99_ms: round(pct(overhead, 99)),
  e2e_p50_ms: round(pct(samples.map((s) => s.e2eMs), 50)),
  model_p50_ms: round(pct(samples.map((s) => s.modelMs), 50)),
  wall_s: round(wallMs / 1000),
  throughput_jobs_per_s: round(samples.length / (wallMs / 1000)),
  model_time_share: Math.round((modelSum / wallMs) * 1000) / 1000,
  event_loop_delay_p50_ms: eventLoop?.p50 ?? null,
  event_loop_delay_p99_ms: eventLoop?.p99 ?? null,
  event_loop_delay_max_ms: eventLoop?.max ?? null,
  long_job_ms: Math.round(longMs),
  long_job_step_p50_ms: longStepMs,
  long_job_event_loop_delay_p99_ms: longLoop?.p99 ?? null,
  long_job_event_loop_delay_max_ms: longLoop?.max ?? null,
};
console.log(`machine                                 ${result.machine}`);
console.log(`jobs accepted / succeeded / lost        ${result.accepted} / ${result.succeeded} / ${result.jobs_lost}`);
console.log(`overhead (e2e - model - queue wait)     p50 ${result.overhead_p50_ms} ms, p99 ${result.overhead_p99_ms} ms (goal 20 / 100)`);
console.log(`end to end p50 / model p50              ${result.e2e_p50_ms} ms / ${result.model_p50_ms} ms`);
console.log(`throughput                              ${result.throughput_jobs_per_s} jobs/s over ${result.wall_s} s; model time ${(result.model_time_share * 100).toFixed(1)}% of wall time`);
console.log(`server event-loop delay                 p50 ${result.event_loop_delay_p50_ms} ms, p99 ${result.event_loop_delay_p99_ms} ms, max ${result.event_loop_delay_max_ms} ms (goal p99 20)`);
console.log(`one 1024x1024 10-step job: ${result.long_job_ms} ms, step p50 ${result.long_job_step_p50_ms} ms; event-loop delay p99 ${result.long_job_event_loop_delay_p99_ms} ms, max ${result.long_job_event_loop_delay_max_ms} ms`);
console.log(JSON.stringify(result));
