/**
 * Starts the server: `npm run serve` (after `vite build`), or `npm start` which builds first. A setting that
 * cannot work (a bad value, an execution provider that cannot run here, a port in use) ends the process with
 * exit code 1 and one line on stderr, before the job database is opened. SIGTERM (and SIGINT) stop it
 * gracefully (`prepareShutdown`): the running job finishes within SHUTDOWN_GRACE_MS or goes back to the queue.
 */
import { LogController } from 'fastify';
import { buildApp } from './app.ts';
import { exitWith, listenErrorMessage, prepareShutdown, probePort, startupConfig } from './lifecycle.ts';

function exitWithLine(line: string): never {
  process.stderr.write(`ad-studio: ${line}\n`);
  process.exit(1);
}

const config = startupConfig();
// a port that cannot be had ends the process before the job database is opened (and its jobs recovered)
const portError = await probePort(config.host, config.port);
if (portError) exitWithLine(listenErrorMessage(portError, config.host, config.port) ?? portError.message);

const { app, services, operations } = await buildApp(config, {
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  logController: new LogController({ disableRequestLogging: process.env.LOG_REQUESTS !== '1' }),
});
let provider: string;
try {
  provider = await services.engine.ready();
} catch (error) {
  exitWith(error);
}
const shutdown = prepareShutdown(app, services.jobs, operations, config.shutdownGraceMs);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown.stop(signal));
void services.models.warmUp();
let address: string;
try {
  address = await app.listen({ host: config.host, port: config.port });
} catch (error) {
  // taken between the probe and now
  const line = listenErrorMessage(error, config.host, config.port);
  if (!line) throw error;
  exitWithLine(line);
}
app.log.info(`Ad Studio on ${address} (models: ${config.modelsDir}, default ${config.defaultModel}, onnxruntime-node ${provider})`);
