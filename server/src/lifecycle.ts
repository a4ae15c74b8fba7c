/** The server process's start and stop: a port that cannot be had, and a graceful stop on SIGTERM. */
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { describeError } from '../../src/core/errors.ts';
import { configFromEnv, type ServerConfig } from './config.ts';
import { checkExecutionProvider } from './executionProvider.ts';
import type { JobOperations } from './http/operations.ts';
import type { JobQueue } from './jobs/jobQueue.ts';

/**
 * One plain line for a listen error people cause (the port taken, a privileged port, an address not of this
 * machine), by its `code`; undefined for anything else (which keeps its stack).
 */
export function listenErrorMessage(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is in use (another Ad Studio?): set PORT to another port`;
    case 'EACCES':
      return `no permission to listen on port ${port} on ${host} (ports below 1024 need privileges): set PORT to another port`;
    case 'EADDRNOTAVAIL':
      return `${host} is not an address of this machine: set HOST to one that is (127.0.0.1, or 0.0.0.0 for every interface)`;
    default:
      return undefined;
  }
}

/**
 * Tries to listen on `host:port` and lets go at once, before the server opens its job database: a port that
 * cannot be had then ends the process before any job is touched.
 * @returns the listen error (EADDRINUSE, EACCES, ...), or undefined when the port can be had (port 0 always can).
 */
export async function probePort(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  if (port === 0) return undefined;
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

/**
 * Prepares a graceful stop (SIGTERM), bounded by `graceMs`; call it before the app listens (it adds hooks).
 * On `stop`:
 * 1. the queue starts no other job, and the HTTP server stops accepting connections (requests arriving on open
 *    connections are answered 503, those in flight finish, with `Connection: close`; progress streams go on);
 * 2. the running job may finish until `graceMs` has passed; past that it is stopped at its next denoising step
 *    and put back in the queue without counting its start (`JobQueue.interrupt`); queued jobs stay queued;
 * 3. the progress streams left open (queued jobs') are ended, so their clients reconnect to the next server,
 *    and the app closes (job database, render worker); the process exits with code 0.
 * Requests still open when `graceMs` is over (a slow model download) are cut then. A second signal stops the
 * running job at once (at its next step, back in the queue).
 * @param graceMs milliseconds the running job may take to finish (`SHUTDOWN_GRACE_MS`).
 * @param exit ends the process (`process.exit`).
 */
export function prepareShutdown(app: FastifyInstance, jobs: JobQueue, operations: JobOperations, graceMs: number, exit: (code: number) => void = (code) => process.exit(code)): { stop(signal: string): void } {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  /** Responses under way (to end the progress streams at the close). */
  const open = new Set<ServerResponse>();
  app.addHook('onRequest', async (_req, reply) => {
    const res = reply.raw;
    open.add(res);
    res.once('close', () => open.delete(res));
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (stopping) reply.header('connection', 'close');
    return payload;
  });
  const endStreams = () => {
    for (const res of open) {
      if (!res.headersSent || !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream')) continue;
      res.once('finish', () => app.server.closeIdleConnections());
      res.end();
    }
  };
  let interrupted: Promise<void> | undefined;
  const interrupt = () => (interrupted ??= jobs.interrupt().then((ids) => operations.requeued(ids)));
  const run = async (signal: string) => {
    app.log.info({ grace_ms: graceMs }, `${signal}: no new connections or jobs; the running job may finish within ${graceMs} ms`);
    timer = setTimeout(() => {
      app.log.warn(`SHUTDOWN_GRACE_MS (${graceMs} ms) is over: a running job stops at its next step and goes back to the queue; open connections are closed`);
      void interrupt();
      app.server.closeAllConnections();
    }, graceMs);
    const closed = app.close();
    await jobs.close();
    await interrupted;
    endStreams();
    await closed;
    clearTimeout(timer);
  };
  return {
    stop(signal) {
      if (stopping) {
        app.log.warn(`${signal} again: a running job stops at its next step and goes back to the queue`);
        return void interrupt();
      }
      stopping = true;
      run(signal).then(
        () => {
          app.log.info('stopped');
          exit(0);
        },
        (error: unknown) => {
          app.log.error({ err: error }, 'closing failed');
          exit(1);
        },
      );
    },
  };
}

/**
 * Ends the process on a setting that cannot work: one line on stderr (`<program>: <message> [<code>]`, the code
 * left out for `internal`) and exit code 1, no stack.
 */
export function exitWith(error: unknown, program = 'ad-studio'): never {
  const { code, message } = describeError(error);
  process.stderr.write(`${program}: ${message}${code === 'internal' ? '' : ` [${code}]`}\n`);
  process.exit(1);
}

/**
 * The settings from the environment, with the execution provider checked (a child process runs it): what the
 * server and `npm run worker` start from. A setting that cannot work ends the process as `exitWith` does.
 */
export function startupConfig(program = 'ad-studio'): ServerConfig {
  try {
    const config = configFromEnv();
    checkExecutionProvider(config.executionProvider);
    return config;
  } catch (error) {
    return exitWith(error, program);
  }
}
