import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync } from 'fastify';
import { ImageStore } from '../images/imageStore.ts';
import type { Services } from '../services.ts';

/** `GET /api/images/<sha256>.png`: a generated image by content hash, cacheable forever. */
export const imageRoutes = (services: Services): FastifyPluginAsync => async (app) => {
  app.get<{ Params: { name: string } }>('/api/images/:name', async (req, reply) => {
    const sha256 = req.params.name.replace(/\.png$/, '');
    if (!ImageStore.isDigest(sha256) || !(await services.images.has(sha256))) {
      return reply.code(404).send({ error: { code: 'not_found', message: `no image ${req.params.name}` } });
    }
    return reply
      .type('image/png')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('etag', `"${sha256}"`)
      .send(createReadStream(services.images.pathFor(sha256)));
  });
};
