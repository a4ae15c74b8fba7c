import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import type { Services } from '../services.ts';

/**
 * Model packages for the browser:
 * - `GET /api/models`: installed ids and the default (cheap: no manifest is built for it)
 * - `GET /models/:id/manifest.json`: the manifest (files, sizes, hashes, device needs)
 * - `GET /models/:id/<path>`: the package files themselves
 */
export const modelRoutes = (services: Services): FastifyPluginAsync => async (app) => {
  app.get('/api/models', async () => ({
    default_model: services.models.defaultModel,
    models: (await services.models.ids()).map((id) => ({ id, manifest_url: `/models/${id}/manifest.json` })),
  }));

  app.get<{ Params: { id: string } }>('/models/:id/manifest.json', async (req) => services.models.manifest(req.params.id));

  await app.register(fastifyStatic, {
    root: services.models.modelsDir,
    prefix: '/models/',
    decorateReply: false,
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: 0,
  });
};
