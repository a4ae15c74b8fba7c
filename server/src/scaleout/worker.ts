/**
 * A render worker for scale-out (`npm run worker`): takes generation jobs from the BullMQ queue in Redis
 * (`REDIS_URL`), renders them with the shared SDXL pipeline in a worker thread (so BullMQ's lock renewals keep
 * running during model runs), reports progress and previews, stops on cancel, and returns each image through
 * Redis to the API. Run any number, on any machine with the model packages in `MODELS_DIR`. A worker killed
 * mid-job loses its lock; BullMQ's stalled-job check gives the job to another worker, up to
 * `JOB_MAX_ATTEMPTS` starts in all.
 */
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { describeError } from '../../../src/core/errors.ts';
import { nodesOf } from '../../../src/core/workflow/index.ts';
import { exitWith as exitWithLine, startupConfig } from '../lifecycle.ts';
import { ModelRegistry } from '../models/registry.ts';
import { RenderEngine } from '../render/renderEngine.ts';
import { CANCEL_CHANNEL, cancelledKey, KEY_TTL_S, QUEUE_NAME, rawResultKey, resultKey, type WorkerJobData, type WorkerProgress, type WorkerReturn } from './protocol.ts';

function exitWith(error: unknown): never {
  return exitWithLine(error, 'ad-studio worker');
}

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) exitWith(new RangeError('REDIS_URL is not set: a render worker takes its jobs from Redis (see README, "Scale-out")'));
const config = startupConfig('ad-studio worker');
const lockMs = Number(process.env.WORKER_LOCK_MS ?? 30_000);
const stalledMs = Number(process.env.WORKER_STALLED_INTERVAL_MS ?? lockMs);
for (const [name, ms] of [['WORKER_LOCK_MS', lockMs], ['WORKER_STALLED_INTERVAL_MS', stalledMs]] as const) {
  if (!Number.isInteger(ms) || ms < 100) exitWith(new RangeError(`${name} must be an integer of at least 100 (milliseconds), got "${process.env[name]}"`));
}
const engine = new RenderEngine({ modelsDir: config.modelsDir, translationModel: config.translationModel, executionProvider: config.executionProvider, memoryBudgetBytes: config.modelMemoryBudgetBytes });
const models = new ModelRegistry(config.modelsDir, config.defaultModel, { chunkBytes: config.modelChunkBytes, variantOrder: config.variantOrder, styleModels: config.styleModels, translationModel: config.translationModel });
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const subscriber = new Redis(redisUrl, { maxRetriesPerRequest: null });
const running = new Map<string, AbortController>();
const log = (fields: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), pid: process.pid, ...fields }));

await subscriber.subscribe(CANCEL_CHANNEL);
subscriber.on('message', (_channel, id: string) => running.get(id)?.abort());

async function render(job: Job<WorkerJobData, WorkerReturn>): Promise<WorkerReturn> {
  const { id, request, previewEvery } = job.data;
  const progress = (p: WorkerProgress) => void job.updateProgress(p as never).catch(() => undefined);
  if (await connection.exists(cancelledKey(id))) return { ok: false, error: { code: 'cancelled', message: 'cancelled before it started' } };
  const controller = new AbortController();
  running.set(id, controller);
  progress({ kind: 'started', attempts: job.attemptsStarted });
  log({ msg: 'job started', job_id: id, attempts: job.attemptsStarted, model: request.model });
  try {
    const out = await engine.run(id, request, await models.files(request.model!), (event) => {
      if (event.stage === 'preview') progress({ kind: 'preview', step: event.step, png_base64: Buffer.from(event.png).toString('base64') });
      else progress({ kind: 'event', event });
    }, controller.signal, previewEvery);
    // the raw picture (without the ad copy) first: the API reads both once the job has completed
    if (out.rawPng) await connection.set(rawResultKey(id), Buffer.from(out.rawPng), 'EX', KEY_TTL_S);
    await connection.set(resultKey(id), Buffer.from(out.png), 'EX', KEY_TTL_S);
    log({ msg: 'job succeeded', job_id: id, total_ms: Math.round(out.timings.totalMs) });
    return { ok: true, result: { width: out.width, height: out.height, seed: out.seed, execution_provider: out.executionProvider, timings: out.timings, truncated: out.truncated }, nodes: out.nodes, ...(out.rawPng ? { raw: true } : {}) };
  } catch (error) {
    const info = describeError(error);
    const nodes = nodesOf(error);
    log({ msg: 'job ended', job_id: id, code: info.code });
    return { ok: false, error: info, ...(nodes ? { nodes } : {}) };
  } finally {
    running.delete(id);
  }
}

await engine.ready().catch(exitWith);
const worker = new Worker<WorkerJobData, WorkerReturn>(QUEUE_NAME, render, {
  connection,
  concurrency: 1,
  lockDuration: lockMs,
  stalledInterval: stalledMs,
  // a job starts at most JOB_MAX_ATTEMPTS times: the first start plus this many after stalls
  maxStalledCount: config.maxJobAttempts - 1,
});
log({ msg: 'worker ready', queue: QUEUE_NAME, execution_provider: engine.executionProvider, models_dir: config.modelsDir });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log({ msg: `${signal}: finishing the running job and closing` });
    void (async () => {
      await worker.close();
      await engine.close();
      await subscriber.quit();
      await connection.quit();
      process.exit(0);
    })();
  });
}
