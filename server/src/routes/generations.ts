import type { FastifyPluginAsync } from 'fastify';
import { callerOf } from '../http/access.ts';
import { parseGenerateRequest, RequestValidationError } from '../../../src/core/request.ts';
import type { JobStatus, JobView } from '../jobs/jobTypes.ts';
import { UnknownModelError } from '../models/registry.ts';
import type { Services } from '../services.ts';

/** Body limit of `POST /api/generations`, bytes: a 10 MiB reference photo as base64 plus the request. */
export const GENERATION_BODY_LIMIT = 16 * 1024 * 1024;
const STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Adds `image_url` to finished jobs, and `raw_image_url` (the picture without the ad copy) when the copy was laid over it. */
export function present(view: JobView): JobView & { image_url?: string; raw_image_url?: string } {
  if (!view.result) return view;
  return { ...view, image_url: `/api/images/${view.result.sha256}.png`, ...(view.result.raw_sha256 ? { raw_image_url: `/api/images/${view.result.raw_sha256}.png` } : {}) };
}

const invalid = (field: string, message: string) => new RequestValidationError([{ field, message }]);

/** An integer query parameter in [min, max], or `fallback` when absent. @throws RequestValidationError naming it. */
function intParam(value: string | undefined, name: string, min: number, max: number, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) throw invalid(name, `must be an integer in [${min}, ${max}] (got ${JSON.stringify(value.slice(0, 40))})`);
  return n;
}

/**
 * The asynchronous generation API:
 * - `POST /api/generations` with a GenerateRequest (body up to 16 MiB, for a reference photo) and an optional
 *   `Idempotency-Key` header: the job is validated whole (a reference image by its content) and committed to
 *   the job database, then 202 with the job (Location: its status URL); a repeated key answers 200 with the
 *   job it made, or 422 when the body differs.
 * - `GET /api/generations?status=&limit=&cursor=`: jobs, newest first, with `next_cursor` for the next page
 * - `GET /api/generations/:id`: status, progress, and when done the image's content hash and URL, the raw
 *   picture's URL when ad copy was laid over it, and the workflow's `nodes`
 * - `DELETE /api/generations/:id`: cancels a queued or running job
 */
export const generationRoutes = (services: Services): FastifyPluginAsync => async (app) => {
  app.post('/api/generations', { bodyLimit: GENERATION_BODY_LIMIT }, async (req, reply) => {
    const key = req.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key))) throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters');
    const request = parseGenerateRequest(req.body);
    const image = request.image ? await services.verifier.verify(request.image) : undefined;
    try {
      request.model = await services.models.resolve(request.model, request.style);
    } catch (error) {
      if (error instanceof UnknownModelError) throw invalid(request.model === undefined && request.style ? 'style' : 'model', error.message);
      throw error;
    }
    // an API key's Idempotency-Keys are its own; callers without a key share one space (their IP may change
    // between a request and its retry, which is when the key matters)
    const caller = callerOf(req);
    const scoped = key !== undefined && caller?.keyName !== undefined ? `${caller.client}|${key}` : key;
    const { job, created } = services.jobs.submit(request, image, scoped);
    return reply.code(created ? 202 : 200).header('location', `/api/generations/${job.id}`).send(present(job));
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/api/generations', async (req) => {
    const { status, limit, cursor } = req.query;
    if (status !== undefined && !STATUSES.includes(status as JobStatus)) throw invalid('status', `must be one of ${STATUSES.join(', ')}`);
    const page = services.jobs.list({
      ...(status ? { status: status as JobStatus } : {}),
      limit: intParam(limit, 'limit', 1, 100, 20)!,
      ...(cursor !== undefined ? { cursor: intParam(cursor, 'cursor', 1, Number.MAX_SAFE_INTEGER)! } : {}),
    });
    return { ...page, jobs: page.jobs.map(present) };
  });

  app.get<{ Params: { id: string } }>('/api/generations/:id', async (req, reply) => {
    const job = services.jobs.get(req.params.id);
    if (!job) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id.slice(0, 64)}` } });
    return present(job);
  });

  app.delete<{ Params: { id: string } }>('/api/generations/:id', async (req, reply) => {
    const job = services.jobs.cancel(req.params.id);
    if (!job) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id.slice(0, 64)}` } });
    return present(job);
  });
};
