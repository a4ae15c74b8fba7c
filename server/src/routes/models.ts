import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_STYLE_MODELS } from '../../../src/core/product/index.ts';
import type { Services } from '../services.ts';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Model packages for the browser:
 * - `GET /api/models`: installed ids, the default, and each style's package (cheap: no manifest is built for it)
 * - `GET /models/:id/manifest.json`: the manifest (files with hashes, variants, device needs)
 * - `GET /models/files/:sha256`: a package file by content (the same file of two packages has one address),
 *   immutable, with HTTP Range requests for resumed downloads and single-chunk repairs
 * - `GET /models/:id/<path>`: the package files by path
 */
export const modelRoutes = (services: Services): FastifyPluginAsync => async (app) => {
  app.get('/api/models', async () => ({
    default_model: services.models.defaultModel,
    models: (await services.models.ids()).map((id) => ({ id, manifest_url: `/models/${id}/manifest.json` })),
    style_models: { ...DEFAULT_STYLE_MODELS, ...services.models.options.styleModels },
    translation_model: (await services.models.translationModel()) ?? null,
  }));

  app.get<{ Params: { id: string } }>('/models/:id/manifest.json', async (req, reply) => {
    reply.header('cache-control', 'no-cache');
    return services.models.manifest(req.params.id);
  });

  await app.register(fastifyStatic, {
    root: services.models.modelsDir,
    prefix: '/models/',
    dotfiles: 'deny',
    cacheControl: true,
    maxAge: 0,
  });

  app.get<{ Params: { sha256: string } }>('/models/files/:sha256', async (req, reply) => {
    const path = SHA256.test(req.params.sha256) ? await services.models.pathForSha(req.params.sha256) : undefined;
    if (!path) return reply.code(404).send({ error: { code: 'not_found', message: `no model file ${req.params.sha256}` } });
    return reply.sendFile(path, services.models.modelsDir, { immutable: true, maxAge: 365 * 24 * 3600 * 1000, acceptRanges: true, cacheControl: true });
  });
};
