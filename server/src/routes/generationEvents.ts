import fastifySse from '@fastify/sse';
import type { FastifyPluginAsync } from 'fastify';
import type { JobEvent } from '../jobs/jobEvents.ts';
import type { JobView } from '../jobs/jobTypes.ts';
import type { Services } from '../services.ts';

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * `GET /api/generations/:id/events`: the job's progress as Server-Sent Events (@fastify/sse).
 * - `event: progress`, data `{status, stage, step, total, eta_ms, queue_position, preview?}` (`preview`: a PNG
 *   data: URL of the latents every few steps); the first event is the job's state when the stream opens.
 * - `event: done`, data: the job as `GET /api/generations/:id` shows it; then the stream ends.
 * - Event ids `<epoch>-<n>`: a reconnect with `Last-Event-ID` gets only the events after it (the whole log when
 *   the id is from another server process). Comment heartbeats every `heartbeatMs` keep proxies from closing it.
 * Unknown id: 404 JSON, as the other job routes.
 * @param present how the job routes show a job (adds `image_url`).
 */
export const generationEventRoutes = (services: Services, present: (view: JobView) => unknown, heartbeatMs: number): FastifyPluginAsync => async (app) => {
  await app.register(fastifySse, { heartbeatInterval: heartbeatMs });

  app.get<{ Params: { id: string } }>('/api/generations/:id/events', { sse: 'only' }, async (req, reply) => {
    const { id } = req.params;
    const job = services.jobs.get(id);
    if (!job) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${id.slice(0, 64)}` } });
    const sse = reply.sse;
    const send = (event: JobEvent) => {
      if (!sse.isConnected) return;
      void sse.send({ id: event.id, event: event.event, data: event.event === 'done' ? present(event.data as JobView) : event.data }).catch(() => undefined);
      if (event.event === 'done') sse.close();
    };
    if (TERMINAL.has(job.status)) {
      send({ id: `${services.jobs.events.epoch}-done`, event: 'done', data: job });
      return;
    }
    sse.keepAlive();
    sse.sendHeaders(); // commit the stream now: a resumed stream may have nothing to replay yet
    const lastEventId = sse.lastEventId ?? undefined;
    // the log is replayed; a job with no event yet (queued, unwatched) opens with its state as it is now
    const hadEvents = services.jobs.events.latest(id) !== undefined;
    const unsubscribe = services.jobs.events.subscribe(id, lastEventId, send);
    if (!hadEvents) {
      const data = services.jobs.progressData(id);
      if (data) services.jobs.events.publish(id, 'progress', data);
    }
    sse.onClose(unsubscribe);
  });
};
