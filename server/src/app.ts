import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { describeError, type ErrorCode } from '../../src/core/errors.ts';
import type { ServerConfig } from './config.ts';
import { ImageStore } from './images/imageStore.ts';
import { ReferenceVerifier } from './images/verifyPool.ts';
import { trustProxyOption } from './access/accessConfig.ts';
import { registerAccess } from './http/access.ts';
import { JobOperations, registerOperations } from './http/operations.ts';
import { boundedJsonParser } from './http/jsonBody.ts';
import { JobQueue } from './jobs/jobQueue.ts';
import { JobStore } from './jobs/jobStore.ts';
import { ModelRegistry } from './models/registry.ts';
import { RenderEngine } from './render/renderEngine.ts';
import { RedisDispatcher } from './scaleout/redisDispatcher.ts';
import { generationEventRoutes } from './routes/generationEvents.ts';
import { generationRoutes, present } from './routes/generations.ts';
import { imageRoutes } from './routes/images.ts';
import { modelRoutes } from './routes/models.ts';
import type { Services } from './services.ts';

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = { invalid_request: 400, unauthorized: 401, unknown_model: 404, cancelled: 409, idempotency_conflict: 422, rate_limited: 429, quota_exceeded: 429, queue_full: 503 };

/**
 * The Ad Studio server: the generation API, model packages, images, and the built app, on one origin.
 * Pages are cross-origin isolated (COOP/COEP) so the browser worker can use threaded WASM.
 */
export async function buildApp(config: ServerConfig, options: FastifyServerOptions = {}): Promise<{ app: FastifyInstance; services: Services; operations: JobOperations }> {
  const app = Fastify({ bodyLimit: 1024 * 1024, trustProxy: trustProxyOption(config.trustProxy), ...options });
  const engine = new RenderEngine({ modelsDir: config.modelsDir, translationModel: config.translationModel, executionProvider: config.executionProvider, memoryBudgetBytes: config.modelMemoryBudgetBytes });
  const models = new ModelRegistry(config.modelsDir, config.defaultModel, {
    chunkBytes: config.modelChunkBytes,
    variantOrder: config.variantOrder,
    realSizeModels: config.realSizeModels,
    styleModels: config.styleModels,
    translationModel: config.translationModel,
  });
  const images = new ImageStore(join(config.dataDir, 'images'));
  const store = new JobStore(join(config.dataDir, 'jobs.sqlite'));
  // job logs (JSON lines with job_id) and job metrics
  const operations = new JobOperations(store, app.log);
  const jobs = new JobQueue(
    store,
    async ({ id, request, previewEvery }, onEvent, signal) => {
      const out = await engine.run(id, request, await models.files(request.model!), onEvent, signal, previewEvery);
      const sha256 = await images.put(out.png);
      // the picture without the ad copy, stored like the final image (by content), for editing the copy later
      const raw = out.rawPng ? { raw_sha256: await images.put(out.rawPng) } : {};
      return { sha256, ...raw, width: out.width, height: out.height, seed: out.seed, execution_provider: out.executionProvider, timings: out.timings, truncated: out.truncated, nodes: out.nodes };
    },
    { maxQueued: config.maxQueuedJobs, maxAttempts: config.maxJobAttempts, remote: config.redisUrl !== undefined, loadedModel: () => engine.models.loadedModel, maxWaitMs: config.queueMaxWaitMs, onJobAccepted: operations.accepted, onJobStarted: operations.started, onJobEnded: operations.ended, ...(config.previewEvery !== undefined ? { previewEvery: config.previewEvery } : {}) },
  );
  // scale-out: with REDIS_URL, jobs go to BullMQ workers (`npm run worker`); SQLite stays the source of truth
  const dispatcher = config.redisUrl ? new RedisDispatcher(config.redisUrl, store, jobs, images, (line) => app.log.warn(line)) : undefined;
  if (dispatcher) {
    jobs.useDispatcher(dispatcher);
    await dispatcher.start();
  }
  const verifier = new ReferenceVerifier();
  const services: Services = { models, jobs, images, engine, verifier };

  boundedJsonParser(app);
  app.addHook('onSend', async (_req, reply) => {
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-embedder-policy', 'require-corp');
    reply.header('cross-origin-resource-policy', 'same-origin');
  });

  app.setErrorHandler((error, req, reply) => {
    const fastifyError = error as { statusCode?: number; status?: number; code?: string; message: string };
    const status = fastifyError.statusCode ?? fastifyError.status;
    if (status && status < 500) {
      // Fastify's own client errors (malformed JSON, too large a body) and static-file refusals
      const limit = req.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit ?? 1024 * 1024;
      const tooLarge = status === 413 && `the request body is over ${limit / 1048576} MiB, the limit of ${req.method} ${req.routeOptions.url ?? req.url}`;
      const body = tooLarge
        ? { code: 'invalid_request', message: tooLarge, issues: [{ field: '(body)', message: tooLarge }] }
        : status === 400 || status === 415
          ? { code: 'invalid_request', message: fastifyError.message, issues: [{ field: '(body)', message: fastifyError.message }] }
          : { code: 'not_found', message: fastifyError.message };
      return reply.code(status === 403 ? 404 : status).send({ error: body });
    }
    const info = describeError(error);
    const code = STATUS_BY_CODE[info.code] ?? 500;
    if (code >= 500) req.log.error(error);
    return reply.code(code).send({ error: info });
  });

  // /healthz, /readyz, /metrics, /docs: before the routes, which the OpenAPI document and the metrics must see
  await registerOperations(app, services, operations);
  // keys, rate limits, daily quotas, CORS: before the routes, which their hooks wrap
  await registerAccess(app, config);
  app.get('/api/health', async () => ({ ok: true, execution_provider: await engine.ready(), models: await models.ids() }));
  await app.register(generationRoutes(services));
  await app.register(generationEventRoutes(services, present, config.sseHeartbeatMs));
  await app.register(imageRoutes(services));
  await app.register(modelRoutes(services));
  // the built app, with the brotli and gzip copies written at build time (vite.config.ts) sent as they are for
  // `Accept-Encoding` (never compressed per request; `Vary: Accept-Encoding`); model files (`/models/`) are not compressed
  if (existsSync(config.staticDir)) await app.register(fastifyStatic, { root: config.staticDir, prefix: '/', wildcard: false, index: ['index.html'], decorateReply: false, preCompressed: true });

  app.addHook('onClose', async () => {
    await jobs.close();
    await dispatcher?.close();
    store.close();
    await engine.close();
    await verifier.close();
  });
  return { app, services, operations };
}
