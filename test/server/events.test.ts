import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRgba } from '../helpers/png.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { events, readEvents, type StreamItem } from '../helpers/sse.ts';

interface Progress {
  status: string;
  stage: string;
  step: number;
  total: number;
  eta_ms: number | null;
  queue_position: number;
  preview?: string;
}

let server: RunningServer;
beforeAll(async () => {
  server = await startServer({ previewEvery: 2, sseHeartbeatMs: 200 });
});
afterAll(async () => server?.close());

const submit = async (steps: number, seed = 1, size = 128) => {
  const response = await fetch(`${server.url}/api/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a croissant on a marble counter', width: size, height: size, seed, num_inference_steps: steps }),
  });
  expect(response.status).toBe(202);
  return (await response.json()) as { id: string };
};
const eventsUrl = (id: string) => `${server.url}/api/generations/${id}/events`;
const isDone = (item: StreamItem) => item.kind === 'event' && item.event === 'done';
const seq = (id: string | undefined) => Number(id!.split('-')[1]);

describe('progress as Server-Sent Events', () => {
  it('streams stage, step, total, ETA and latent previews, then the job as GET shows it', async () => {
    const job = await submit(6, 11);
    const { status, contentType, items } = await readEvents(eventsUrl(job.id), { until: isDone });
    expect(status).toBe(200);
    expect(contentType).toContain('text/event-stream');
    const all = events<Progress>(items);
    const done = all.at(-1)!;
    expect(done.event).toBe('done');
    const progress = all.filter((e) => e.event === 'progress').map((e) => e.data);
    // ids increase one by one within the stream
    const ids = all.map((e) => seq(e.id));
    expect(ids).toEqual(ids.map((_, i) => ids[0]! + i));
    // every denoising step is reported, in order, with its total
    const steps = progress.filter((p) => p.stage === 'denoise').map((p) => p.step);
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(progress.every((p) => p.total === 6 && p.status === 'running')).toBe(true);
    expect(progress.map((p) => p.stage)).toContain('encode');
    expect(progress.at(-1)!.stage).toBe('decode');
    // an ETA once a step has been measured, shrinking to 0 at the end of the loop
    const afterFirst = progress.filter((p) => p.stage === 'denoise' && p.step >= 1);
    expect(afterFirst.every((p) => typeof p.eta_ms === 'number' && p.eta_ms >= 0)).toBe(true);
    expect(afterFirst.at(-1)!.eta_ms).toBe(0);
    // previews every 2 steps: PNGs at the latent resolution (128 / 8)
    const previews = progress.filter((p) => p.preview);
    expect(previews.map((p) => p.step)).toEqual([2, 4, 6]);
    for (const p of previews) {
      expect(p.preview).toMatch(/^data:image\/png;base64,/);
      const png = Buffer.from(p.preview!.split(',')[1]!, 'base64');
      expect(decodeRgba(new Uint8Array(png))).toMatchObject({ width: 16, height: 16 });
    }
    // the done event is the job view with its image
    const view = await (await fetch(`${server.url}/api/generations/${job.id}`)).json();
    expect(done.data).toEqual(view);
    expect(view).toMatchObject({ status: 'succeeded', image_url: `/api/images/${view.result.sha256}.png` });
  });

  it('a reconnect with Last-Event-ID gets only the later events, and no step twice', async () => {
    const job = await submit(60, 12, 256);
    const first = await readEvents(eventsUrl(job.id), { until: (item) => item.kind === 'event' && JSON.parse(item.data).step >= 3 });
    const seen = events<Progress>(first.items);
    const lastId = seen.at(-1)!.id!;
    const second = await readEvents(eventsUrl(job.id), { lastEventId: lastId, until: isDone });
    const rest = events<Progress>(second.items);
    expect(rest.at(-1)!.event).toBe('done');
    expect((rest.at(-1)!.data as unknown as { status: string }).status).toBe('succeeded');
    // the job was still running when the stream came back (60 steps), so the replay starts right after the last id
    expect(seq(rest[0]!.id)).toBe(seq(lastId) + 1);
    const steps = [...seen, ...rest].filter((e) => e.event === 'progress' && e.data.stage === 'denoise').map((e) => e.data.step);
    expect(steps).toEqual(Array.from({ length: 61 }, (_, i) => i));
  });

  it('a queued job streams its place, heartbeats while it waits, then runs; cancelling ends streams without touching other jobs', async () => {
    const long = await submit(80, 13, 256);
    const queued = await submit(3, 14);
    const cancelledWhileQueued = await submit(3, 15);
    // the queued job's stream opens with its place, then heartbeats while the long job runs
    const waiting = await readEvents(eventsUrl(queued.id), { until: (item) => item.kind === 'comment' });
    expect(events<Progress>(waiting.items)[0]!.data).toMatchObject({ status: 'queued', stage: 'queued', queue_position: 1 });
    expect(waiting.items.at(-1)).toEqual({ kind: 'comment', text: 'heartbeat' });

    const cancelledStream = readEvents(eventsUrl(cancelledWhileQueued.id), { until: isDone });
    const firstOfCancelled = readEvents(eventsUrl(cancelledWhileQueued.id), { until: (item) => item.kind === 'event' });
    expect(events<Progress>((await firstOfCancelled).items)[0]!.data).toMatchObject({ status: 'queued', queue_position: 2 });
    expect((await fetch(`${server.url}/api/generations/${cancelledWhileQueued.id}`, { method: 'DELETE' })).status).toBe(200);
    expect(events((await cancelledStream).items).at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled', error: { code: 'cancelled' } } });

    // cancel the running job: it ends at its next step, and the queued one runs
    const stream = readEvents(eventsUrl(queued.id), { until: isDone });
    const running = readEvents(eventsUrl(long.id), { until: isDone });
    await readEvents(eventsUrl(long.id), { until: (item) => item.kind === 'event' && JSON.parse(item.data).step >= 2 });
    expect((await fetch(`${server.url}/api/generations/${long.id}`, { method: 'DELETE' })).status).toBe(200);
    const longItems = events<Progress>((await running).items);
    expect(longItems.at(-1)).toMatchObject({ event: 'done', data: { status: 'cancelled', error: { code: 'cancelled' } } });
    expect(longItems.filter((e) => e.event === 'progress').at(-1)!.data.step).toBeLessThan(80);

    const queuedEvents = events<Progress>((await stream).items);
    expect(queuedEvents.some((e) => e.data.status === 'running')).toBe(true);
    expect(queuedEvents.at(-1)).toMatchObject({ event: 'done', data: { status: 'succeeded' } });

    // a finished job's stream is its done event at once
    const again = events(await readEvents(eventsUrl(queued.id), { until: isDone }).then((r) => r.items));
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ event: 'done', data: { id: queued.id, status: 'succeeded' } });
  });

  it('unknown ids are 404 JSON; a client that refuses event streams gets 406', async () => {
    const missing = await fetch(`${server.url}/api/generations/nope/events`, { headers: { accept: 'text/event-stream' } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    const job = await submit(1, 16);
    const json = await fetch(eventsUrl(job.id), { headers: { accept: 'application/json' } });
    expect(json.status).toBe(406);
  });
});
