/**
 * Starts the server: `npm run serve` (after `vite build`), or `npm start` which builds first. A setting that
 * cannot work (a bad value, an execution provider that cannot run here) ends the process with exit code 1 and
 * one line on stderr, before the job database is opened.
 */
import { describeError } from '../../src/core/errors.ts';
import { buildApp } from './app.ts';
import { configFromEnv, type ServerConfig } from './config.ts';
import { checkExecutionProvider } from './executionProvider.ts';

function exitWith(error: unknown): never {
  const { code, message } = describeError(error);
  process.stderr.write(`ad-studio: ${message}${code === 'internal' ? '' : ` [${code}]`}\n`);
  process.exit(1);
}

let config: ServerConfig;
try {
  config = configFromEnv();
  checkExecutionProvider(config.executionProvider);
} catch (error) {
  exitWith(error);
}
const { app, services } = await buildApp(config, { logger: { level: process.env.LOG_LEVEL ?? 'info' }, disableRequestLogging: process.env.LOG_REQUESTS !== '1' });
let provider: string;
try {
  provider = await services.engine.ready();
} catch (error) {
  exitWith(error);
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
