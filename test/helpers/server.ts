import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/src/app.ts';
import { configFromEnv } from '../../server/src/config.ts';
import type { Services } from '../../server/src/services.ts';
import { MODELS_DIR, ROOT } from './fixture.ts';

export interface RunningServer {
  url: string;
  /** Paths of every request the server received, in order (for counting model downloads). */
  requests: string[];
  app: FastifyInstance;
  services: Services;
  dataDir: string;
  close(): Promise<void>;
}

/** Starts the real server on a free loopback port, with a fresh data folder. */
export async function startServer(): Promise<RunningServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ad-studio-data-'));
  const config = { ...configFromEnv({}, ROOT), port: 0, modelsDir: MODELS_DIR, dataDir };
  const { app, services } = await buildApp(config, { logger: false });
  const requests: string[] = [];
  app.addHook('onRequest', async (req) => {
    requests.push(req.url);
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url: address,
    requests,
    app,
    services,
    dataDir,
    async close() {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
