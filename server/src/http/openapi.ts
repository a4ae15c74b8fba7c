import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { GenerateRequestSchema } from '../../../src/core/request.ts';
import { ErrorBodySchema, HealthSchema, JobListSchema, JobSchema, LivenessSchema, ModelsSchema, NotReadySchema, QuotaSchema, ReadinessSchema, asSent } from './apiSchemas.ts';

/** Where Swagger UI is served; the document itself is at `${DOCS_PREFIX}/json` (and `/yaml`). */
export const DOCS_PREFIX = '/docs';

/** What the OpenAPI document says of one route (a Fastify route schema, used for documentation only). */
interface RouteDoc {
  /** The path as the document shows it, when not the route's own (a wildcard). */
  url?: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Record<string, string[]>[];
  params?: unknown;
  querystring?: unknown;
  headers?: unknown;
  body?: unknown;
  response: Record<string, unknown>;
}

const plain = (schema: unknown) => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
const json = (description: string, schema: unknown) => ({ description, ...plain(schema) });
const error = (description: string) => json(description, ErrorBodySchema);
const bytes = (description: string, type: string) => ({ description, content: { [type]: { schema: { type: 'string', format: 'binary' } } } });
const idParam = { type: 'object', properties: { id: { type: 'string', description: 'the job id (from the 202)' } }, required: ['id'] };
/** API routes take a key when sent, and need one with REQUIRE_API_KEY=1; `{}`: none is needed by default. */
const KEYED: Record<string, string[]>[] = [{}, { bearer: [] }, { apiKey: [] }];
const KEY_ERRORS = { 401: error('unauthorized: a bad API key, or none where one is required'), 429: error('rate_limited (retry-after)') };

/**
 * Every documented route, by `<METHOD> <url>` as registered. The routes validate their own input (the
 * request's parser reports every bad field at once, unknown fields apart), so these schemas only describe.
 */
const ROUTES: Record<string, RouteDoc> = {
  'POST /api/generations': {
    summary: 'Queue a generation',
    description:
      'The request is validated whole (every bad field is named with its limit; unknown fields are refused), a reference image by its content, and the job is committed to the job database before the 202. ' +
      'A repeat with the same Idempotency-Key answers 200 with the job it made. Body limit 16 MiB (a reference photo as a data URL).',
    tags: ['generations'],
    security: KEYED,
    headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$', description: 'makes a repeat answer with the same job' } } },
    body: asSent(GenerateRequestSchema),
    response: {
      202: json('accepted: the job, queued (Location: its URL)', JobSchema),
      200: json('a repeat of an Idempotency-Key: the job it made', JobSchema),
      400: error('invalid_request: every bad field in `issues`'),
      413: error('the body is over the route\'s limit'),
      422: error('idempotency_conflict: the key was used with another body'),
      ...KEY_ERRORS,
      503: error('queue_full'),
    },
  },
  'GET /api/generations': {
    summary: 'List jobs, newest first',
    tags: ['generations'],
    security: KEYED,
    querystring: {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] },
        limit: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        cursor: { type: 'integer', minimum: 1, description: 'next_cursor of the previous page' },
      },
    },
    response: { 200: json('a page of jobs', JobListSchema), 400: error('invalid_request'), ...KEY_ERRORS },
  },
  'GET /api/generations/:id': {
    summary: 'A job: status, progress, result',
    description:
      'When it has ended: `nodes`, the ad workflow node by node (prompt, txt2img or img2img, layout, export: status, started_at, duration_ms, error_code, detail); ' +
      'when it succeeded: `image_url` (the final PNG, with the ad copy when the request had `ad.copy`) and, when copy was laid over the picture, `raw_image_url` (the PNG without it, to edit the copy without generating again).',
    tags: ['generations'],
    security: KEYED,
    params: idParam,
    response: { 200: json('the job', JobSchema), 404: error('not_found'), ...KEY_ERRORS },
  },
  'DELETE /api/generations/:id': {
    summary: 'Cancel a job',
    description: 'A queued job is cancelled at once, a running one at its next denoising step.',
    tags: ['generations'],
    security: KEYED,
    params: idParam,
    response: { 200: json('the job as it is now', JobSchema), 404: error('not_found'), ...KEY_ERRORS },
  },
  'GET /api/generations/:id/events': {
    summary: 'Progress as Server-Sent Events',
    description:
      '`event: progress` with `{status, stage, step, total, eta_ms, queue_position, preview?}` (preview: a PNG data URL of the latents every few steps), then `event: done` with the job, and the stream ends. ' +
      'Reconnect with Last-Event-ID to get only later events; comment heartbeats keep it open.',
    tags: ['generations'],
    security: KEYED,
    params: idParam,
    headers: { type: 'object', properties: { 'last-event-id': { type: 'string' } } },
    response: { 200: { description: 'the event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, 404: error('not_found'), ...KEY_ERRORS },
  },
  'GET /api/images/:name': {
    summary: 'A generated image by content hash',
    tags: ['images'],
    security: KEYED,
    params: { type: 'object', properties: { name: { type: 'string', pattern: '^[0-9a-f]{64}\\.png$', description: '<sha256>.png, from a result' } }, required: ['name'] },
    response: { 200: bytes('the PNG, immutable', 'image/png'), 404: error('not_found'), ...KEY_ERRORS },
  },
  'GET /api/quota': {
    summary: "The caller's daily quota of server renders",
    tags: ['access'],
    security: KEYED,
    response: { 200: json('counts for today (UTC)', QuotaSchema), ...KEY_ERRORS },
  },
  'GET /api/models': {
    summary: 'Installed model packages',
    tags: ['models'],
    response: { 200: json('ids and manifest URLs', ModelsSchema) },
  },
  'GET /models/:id/manifest.json': {
    summary: "A model package's manifest",
    description: 'Every file with its size, SHA-256 and per-chunk SHA-256, and each browser variant with what it needs from a device (`ModelManifest`, src/core/loading/manifest.ts).',
    tags: ['models'],
    params: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    response: { 200: { description: 'the manifest', type: 'object', additionalProperties: true }, 404: error('not_found') },
  },
  'GET /models/*': {
    url: '/models/{id}/{path}',
    summary: 'A package file by path',
    description: 'The files of `/models/<id>/` as the manifest lists them (`path` may hold slashes: `unet/model.onnx_data`); Range requests work.',
    tags: ['models'],
    params: { type: 'object', properties: { id: { type: 'string' }, path: { type: 'string' } }, required: ['id', 'path'] },
    response: { 200: bytes('the file', 'application/octet-stream'), 206: bytes('the range asked for', 'application/octet-stream'), 404: error('not_found') },
  },
  'GET /models/files/:sha256': {
    summary: 'A package file by content hash',
    description: 'Immutable; HTTP Range requests resume downloads and repair single chunks.',
    tags: ['models'],
    params: { type: 'object', properties: { sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, required: ['sha256'] },
    response: { 200: bytes('the file', 'application/octet-stream'), 206: bytes('the range asked for', 'application/octet-stream'), 404: error('not_found') },
  },
  'GET /api/health': {
    summary: 'Health: execution provider and installed models',
    tags: ['operations'],
    response: { 200: json('the server runs', HealthSchema) },
  },
  'GET /healthz': {
    summary: 'Liveness',
    tags: ['operations'],
    response: { 200: json('the process answers', LivenessSchema) },
  },
  'GET /readyz': {
    summary: 'Readiness: queue depth, loaded checkpoint, execution provider',
    tags: ['operations'],
    response: { 200: json('ready to render', ReadinessSchema), 503: json('the render engine cannot start (or the server is stopping)', NotReadySchema) },
  },
  'GET /metrics': {
    summary: 'Prometheus metrics',
    description: '`ad_studio_jobs{status}`, `ad_studio_denoise_step_seconds`, `ad_studio_queue_wait_seconds`, per-route HTTP durations and process metrics.',
    tags: ['operations'],
    response: { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } } },
  },
};

/** `<METHOD> <url>` of every route the OpenAPI document describes. */
export const DOCUMENTED_ROUTES = Object.keys(ROUTES);

/**
 * Registers @fastify/swagger and @fastify/swagger-ui on the app itself (call it before the routes: the document
 * lists the routes registered after it). The route schemas above go in through swagger's `transform`, so they
 * describe the routes without being attached to them: Fastify neither validates nor serializes with them.
 * Routes not in the table (the app's files, Swagger UI's own) are left out of the document.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ad Studio API',
        version: '1',
        description: 'SDXL ad images rendered on the server: queue a generation, follow its progress, fetch the PNG by its hash. Errors are `{error: {code, message, issues?}}`.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'an API key (`npm run keys -- add`)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const methods = [route.method].flat().filter((m) => m !== 'HEAD');
      const doc = methods.length === 1 ? ROUTES[`${methods[0]} ${url}`] : undefined;
      if (!doc) return { schema: { ...schema, hide: true }, url };
      const { url: shown, ...rest } = doc;
      return { schema: plain(rest) as typeof schema, url: shown ?? url };
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { deepLinking: true } });
}
