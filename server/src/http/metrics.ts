import promClient from 'prom-client';
import type { FastifyInstance } from 'fastify';
import fastifyMetrics, { type IMetricsPluginOptions } from 'fastify-metrics';
import type { JobStatus, JobView } from '../jobs/jobTypes.ts';

/** Denoising step buckets, seconds: a tiny model's steps on a CPU (milliseconds) to a full-size UNet on a CPU (tens of seconds). */
const STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Queue wait buckets, seconds: an idle server (milliseconds) to a long queue (an hour). */
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);

/**
 * The server's Prometheus metrics, in a registry of its own (several servers in one process, as in the tests,
 * do not share counters):
 * - `ad_studio_jobs{status}`: jobs in the job database by state, read when scraped
 * - `ad_studio_denoise_step_seconds{model}`: each denoising step of every succeeded job
 * - `ad_studio_queue_wait_seconds{model}`: from a job's `created_at` to its start (each start)
 * - fastify-metrics' `http_request_duration_seconds` and `http_request_summary_seconds` per route, and
 *   prom-client's process metrics (CPU, memory, event-loop lag, GC)
 */
export class ServerMetrics {
  readonly registry = new promClient.Registry();
  private readonly steps: promClient.Histogram<'model'>;
  private readonly queueWait: promClient.Histogram<'model'>;

  /** @param countsByStatus the job database's count of jobs per state (one query per scrape). */
  constructor(countsByStatus: () => Record<JobStatus, number>) {
    const registers = [this.registry];
    new promClient.Gauge({
      name: 'ad_studio_jobs',
      help: 'Jobs in the job database by state',
      labelNames: ['status'],
      registers,
      collect() {
        for (const [status, n] of Object.entries(countsByStatus())) this.set({ status }, n);
      },
    });
    this.steps = new promClient.Histogram({ name: 'ad_studio_denoise_step_seconds', help: 'Wall time of each denoising step of succeeded jobs', labelNames: ['model'], buckets: STEP_BUCKETS, registers });
    this.queueWait = new promClient.Histogram({ name: 'ad_studio_queue_wait_seconds', help: 'Time from a job being accepted to its start', labelNames: ['model'], buckets: WAIT_BUCKETS, registers });
  }

  /** A job started: its wait in the queue (from `created_at` to `started_at`). */
  jobStarted(view: JobView): void {
    if (view.started_at) this.queueWait.observe({ model: view.request.model ?? '' }, seconds(view.created_at, view.started_at));
  }

  /** A job ended: the step times of a succeeded one (`result.step_ms`). */
  jobEnded(view: JobView): void {
    const model = view.request.model ?? '';
    for (const ms of view.result?.step_ms ?? []) this.steps.observe({ model }, ms / 1000);
  }

  /**
   * Registers fastify-metrics on the app (call it before the routes, whose durations it times): `GET /metrics`
   * in Prometheus' text format, with this registry's metrics.
   */
  async register(app: FastifyInstance): Promise<void> {
    const registers = [this.registry];
    const options: Partial<IMetricsPluginOptions> = {
      endpoint: '/metrics',
      // fastify-metrics 13 would take @platformatic/prom-client (its optional peer) if it were installed: pass
      // prom-client itself, so the registry above and the plugin's metrics come from one library
      promClient,
      defaultMetrics: { enabled: true, register: this.registry },
      routeMetrics: { enabled: true, overrides: { histogram: { registers }, summary: { registers } } },
    };
    await app.register(fastifyMetrics, options);
  }
}
