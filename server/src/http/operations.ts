import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { describeError } from '../../../src/core/errors.ts';
import type { JobStore } from '../jobs/jobStore.ts';
import type { JobView } from '../jobs/jobTypes.ts';
import type { Services } from '../services.ts';
import { ServerMetrics } from './metrics.ts';
import { registerOpenApi } from './openapi.ts';

const msBetween = (from: string | undefined, to: string | undefined) => (from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined);

/**
 * What operations needs to know of jobs: the JobQueue's `onJobStarted`/`onJobEnded` hooks land here. It logs
 * each job's life as JSON lines with `job_id` (a child logger of the app's, `component: "jobs"`), feeds the job
 * metrics, and counts running jobs (for `/readyz`).
 */
export class JobOperations {
  readonly metrics: ServerMetrics;
  private readonly log: FastifyBaseLogger;

  constructor(private readonly store: JobStore, logger: FastifyBaseLogger) {
    this.log = logger.child({ component: 'jobs' });
    this.metrics = new ServerMetrics(() => store.countsByStatus());
  }

  /** JobQueue hook: a new job was committed (before its 202). Never throws. */
  readonly accepted = (view: JobView): void => {
    try {
      const { model, width, height, num_inference_steps: steps } = view.request;
      this.log.info({ job_id: view.id, model, width, height, steps, queue_position: view.queue_position, reference_image: view.reference_image !== undefined }, 'job accepted');
    } catch (error) {
      this.log.error({ job_id: view.id, err: error }, 'job acceptance not recorded');
    }
  };

  /** JobQueue hook: a job started (its `attempts`-th start). Never throws. */
  readonly started = (view: JobView): void => {
    try {
      this.metrics.jobStarted(view);
      this.log.info({ job_id: view.id, attempt: view.attempts, model: view.request.model, queue_wait_ms: msBetween(view.created_at, view.started_at) }, 'job started');
    } catch (error) {
      this.log.error({ job_id: view.id, err: error }, 'job start not recorded');
    }
  };

  /** JobQueue hook: a job ended (succeeded, failed with a code, or cancelled, queued or running). Never throws. */
  readonly ended = (view: JobView): void => {
    try {
      this.metrics.jobEnded(view);
      const fields = { job_id: view.id, status: view.status, attempt: view.attempts, model: view.request.model, duration_ms: msBetween(view.started_at, view.finished_at) };
      if (view.status === 'succeeded') {
        const steps = view.result?.step_ms ?? [];
        this.log.info({ ...fields, steps: steps.length, step_ms_mean: steps.length ? Math.round((steps.reduce((a, b) => a + b, 0) / steps.length) * 10) / 10 : undefined, sha256: view.result?.sha256 }, 'job finished');
      } else if (view.status === 'failed') {
        this.log.warn({ ...fields, error_code: view.error?.code, error: view.error?.message }, 'job failed');
      } else {
        this.log.info(fields, 'job cancelled');
      }
    } catch (error) {
      this.log.error({ job_id: view.id, err: error }, 'job end not recorded');
    }
  };

  /** Jobs running now (in this process, or on remote workers in scale-out), by the job database. */
  running(): number {
    return this.store.countByStatus('running');
  }

  /** A graceful stop put these running jobs back in the queue (`JobQueue.interrupt`). */
  requeued(ids: string[]): void {
    for (const id of ids) this.log.warn({ job_id: id }, 'job re-queued: the server stopped before it finished; it runs again at the next start');
  }
}

/**
 * Operations endpoints, on the app itself (not encapsulated, so the OpenAPI document and the metrics see every
 * route); call it before the routes are registered:
 * - `GET /healthz`: liveness, 200 `{ok: true}` while the process answers
 * - `GET /readyz`: readiness, 200 `{ready, execution_provider, loaded_model, queue: {depth, running}}` once the render
 *   engine's runtime has started; 503 `{ready: false, error: {code, message}}` when it cannot start
 * - `GET /metrics`: Prometheus (see `ServerMetrics`)
 * - `GET /docs`: the OpenAPI document (`/docs/json`) browsable with Swagger UI
 */
export async function registerOperations(app: FastifyInstance, services: Services, operations: JobOperations): Promise<void> {
  await registerOpenApi(app);
  await operations.metrics.register(app);

  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    try {
      const provider = await services.engine.ready();
      return { ready: true, execution_provider: provider, loaded_model: services.engine.models.loadedModel ?? null, queue: { depth: services.jobs.depth(), running: operations.running() } };
    } catch (error) {
      return reply.code(503).send({ ready: false, error: describeError(error) });
    }
  });
}
