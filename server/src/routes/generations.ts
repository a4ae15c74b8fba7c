import type { FastifyPluginAsync } from 'fastify';
import { checkReferenceImage } from '../../../src/core/image/decode.ts';
import { parseGenerateRequest, RequestValidationError } from '../../../src/core/request.ts';
import { UnknownModelError } from '../models/registry.ts';
import type { JobView } from '../jobs/jobQueue.ts';
import type { Services } from '../services.ts';

/** Adds `image_url` to finished jobs. */
function present(view: JobView): JobView & { image_url?: string } {
  return view.result ? { ...view, image_url: `/api/images/${view.result.sha256}.png` } : view;
}

/**
 * The asynchronous generation API:
 * - `POST /api/generations` with a GenerateRequest (up to 16 MiB, for a reference photo): 202 and the job
 *   (Location: its status URL); a reference image is checked (type, bytes, pixels) before it is queued
 * - `GET /api/generations/:id`: status, progress, and when done the image's content hash and URL
 * - `DELETE /api/generations/:id`: cancels a queued or running job
 */
export const generationRoutes = (services: Services): FastifyPluginAsync => async (app) => {
  app.post('/api/generations', { bodyLimit: 16 * 1024 * 1024 }, async (req, reply) => {
    const request = parseGenerateRequest(req.body);
    const image = request.image ? checkReferenceImage(request.image) : undefined;
    try {
      request.model = await services.models.resolve(request.model);
    } catch (error) {
      if (error instanceof UnknownModelError) throw new RequestValidationError([{ field: 'model', message: error.message }]);
      throw error;
    }
    const job = services.jobs.submit(request, image);
    return reply.code(202).header('location', `/api/generations/${job.id}`).send(present(job));
  });

  app.get<{ Params: { id: string } }>('/api/generations/:id', async (req, reply) => {
    const job = services.jobs.get(req.params.id);
    if (!job) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id}` } });
    return present(job);
  });

  app.delete<{ Params: { id: string } }>('/api/generations/:id', async (req, reply) => {
    const job = services.jobs.cancel(req.params.id);
    if (!job) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id}` } });
    return present(job);
  });
};
