import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { configFromEnv, type ServerConfig } from '../../server/src/config.ts';
import type { Services } from '../../server/src/services.ts';
import { MODELS_DIR, ROOT } from './fixture.ts';

/** One answered request: its path, Range header, status, and the body bytes sent. */
export interface ServedRequest {
  url: string;
  range?: string;
  status: number;
  bytes: number;
}

export interface RunningServer {
  url: string;
  /** Paths of every request the server received, in order (for counting model downloads). */
  requests: string[];
  /** Every answered request with its range and size (for counting bytes served). */
  served: ServedRequest[];
  app: FastifyInstance;
  services: Services;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * Starts the real server on a free loopback port, with a fresh data folder; `overrides` change its settings
 * (another models folder, a small manifest chunk size, packages marked full-size). The daily quota and the rate
 * limit are off unless `overrides` set them (`dailyQuota`, `rateLimitMax`); `dataDir` reuses a folder (a restart),
 * which `close` then leaves in place.
 * @param beforeListen adds hooks to the app before it listens (tests that cut a connection off).
 */
export async function startServer(overrides: Partial<ServerConfig> = {}, beforeListen?: (app: FastifyInstance) => void): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ad-studio-data-'));
  // no daily quota or rate limit unless a test sets one: tests poll fast and submit many jobs from one IP
  const config = { ...configFromEnv({}, ROOT), port: 0, modelsDir: MODELS_DIR, dataDir, dailyQuota: 0, rateLimitMax: 0, ...overrides };
  const { app, services } = await buildApp(config, { logger: false });
  const requests: string[] = [];
  const served: ServedRequest[] = [];
  app.addHook('onRequest', async (req) => {
    requests.push(req.url);
  });
  app.addHook('onResponse', async (req, reply) => {
    const range = req.headers.range;
    served.push({ url: req.url, ...(range ? { range } : {}), status: reply.statusCode, bytes: Number(reply.getHeader('content-length') ?? 0) });
  });
  beforeListen?.(app);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    requests,
    served,
    app,
    services,
    dataDir: config.dataDir,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
