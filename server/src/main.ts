/** Starts the server: `npm run serve` (after `vite build`), or `npm start` which builds first. */
import { buildApp } from './app.ts';
import { configFromEnv } from './config.ts';

const config = configFromEnv();
const { app, services } = await buildApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' }, disableRequestLogging: process.env.LOG_REQUESTS !== '1' });
const provider = await services.engine.ready();
if (provider !== config.executionProvider) {
  app.log.warn(`ORT_EXECUTION_PROVIDER=${config.executionProvider} is not installed here; running on ${provider} (see README, "CUDA")`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: finishing running jobs and closing`);
    void app.close().then(() => process.exit(0));
  });
}
void services.models.warmUp();
const address = await app.listen({ host: config.host, port: config.port });
app.log.info(`Ad Studio on ${address} (models: ${config.modelsDir}, default ${config.defaultModel}, onnxruntime-node ${provider})`);
