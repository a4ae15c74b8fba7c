/**
 * Follows a server job to its end: its Server-Sent Events stream (`GET /api/generations/<id>/events`) through
 * the browser's EventSource, which reconnects by itself with `Last-Event-ID`; polling `GET
 * /api/generations/<id>` only when the stream cannot be used. Cancelling is `DELETE /api/generations/<id>`,
 * after which the job's end (status `cancelled`) arrives the same way.
 */
import { EngineError } from '../core/errors.ts';
import type { EngineEvent } from './engine.ts';
import { fetchJson, isEnded, jobEvents, viewProgress, type JobProgress, type JobView } from './serverJob.ts';

/** Stream errors in a row with no event between them after which the job is polled instead. */
const STREAM_ERRORS_BEFORE_POLLING = 3;
/**
 * How long a stream the browser cut (an open stream closed without a reconnect: Chromium cancels a page's loads
 * when a reload or navigation starts, before `pagehide`) waits for the page to be left before polling,
 * milliseconds.
 */
const CUT_STREAM_GRACE_MS = 3000;

export interface FollowOptions {
  baseUrl: string;
  onEvent: (event: EngineEvent) => void;
  /** Aborting it cancels the job on the server. */
  signal?: AbortSignal;
  /** Longest wait between polls, milliseconds (the first come sooner, for short jobs). */
  pollMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Whether the page is being left (`pagehide`): a reload or navigation closes the event stream, and the page
 * must not start polling on its way out (the next page re-attaches to the job from IndexedDB). A page restored
 * from the back/forward cache (`pageshow`) goes on.
 */
let leaving = false;
const shown: (() => void)[] = [];
const hidden: (() => void)[] = [];
if (typeof addEventListener === 'function') {
  addEventListener('pagehide', () => {
    leaving = true;
    for (const left of hidden.splice(0)) left();
  });
  addEventListener('pageshow', () => {
    leaving = false;
    for (const resume of shown.splice(0)) resume();
  });
}
const whileLeaving = () => (leaving ? new Promise<void>((resolve) => shown.push(resolve)) : Promise.resolve());
/** Resolves on `pagehide` or after `ms` milliseconds, whichever comes first. */
const leftWithin = (ms: number) =>
  leaving
    ? Promise.resolve()
    : new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        hidden.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
const cancelled = () => new EngineError('cancelled', 'generation cancelled');

/**
 * Waits for server job `id` to end, telling its progress, previews and ETA through `onEvent` as they come.
 * @returns the job view once it succeeded, failed or was cancelled (the `done` event or the last poll).
 * @throws EngineError `server_unreachable` when polling cannot reach the server, `interrupted` when the server
 *   no longer knows the job, `cancelled` when `signal` aborted and the server could not be told (or no longer
 *   knew the job).
 */
export async function followJob(id: string, options: FollowOptions): Promise<JobView> {
  const stop = new AbortController();
  try {
    return await Promise.race([follow(id, options, stop.signal), cancelOnAbort(id, options, stop.signal)]);
  } finally {
    stop.abort();
  }
}

/** The job's end from its event stream, or from polling when the stream cannot be used. */
async function follow(id: string, options: FollowOptions, stop: AbortSignal): Promise<JobView> {
  let lastPreview: string | undefined;
  const tell = (p: JobProgress) => {
    for (const event of jobEvents(p, lastPreview)) options.onEvent(event);
    lastPreview = p.preview ?? lastPreview;
  };
  const jobUrl = `${options.baseUrl}/api/generations/${encodeURIComponent(id)}`;
  const EventSourceClass = globalThis.EventSource as typeof EventSource | undefined;
  if (EventSourceClass) {
    const ended = await streamJob(EventSourceClass, `${jobUrl}/events`, tell, stop);
    if (ended === 'cut') await leftWithin(CUT_STREAM_GRACE_MS);
    else if (ended) return ended;
  }
  for (let wait = 25; !stop.aborted; wait = Math.min(wait * 2, options.pollMs)) {
    await whileLeaving();
    if (stop.aborted) break;
    const job = await fetchJson<JobView>(jobUrl);
    if (isEnded(job.status)) return job;
    tell(viewProgress(job));
    await sleep(wait);
  }
  throw cancelled();
}

/**
 * Reads the job's event stream until its `done` event. Resolves undefined when the stream cannot be used:
 * refused (EventSource closes itself on a 404 or a response that is not an event stream) or failing
 * `STREAM_ERRORS_BEFORE_POLLING` times in a row with no connection or event between (each failure is one of
 * EventSource's reconnects). Resolves `'cut'` when an open stream closed without trying to reconnect: the browser
 * cancelled it (a reload or navigation of the page has started).
 */
function streamJob(EventSourceClass: typeof EventSource, url: string, tell: (p: JobProgress) => void, stop: AbortSignal): Promise<JobView | 'cut' | undefined> {
  return new Promise((resolve) => {
    const source = new EventSourceClass(url);
    let errors = 0;
    let open = false;
    const end = (view: JobView | 'cut' | undefined) => {
      source.close();
      stop.removeEventListener('abort', onStop);
      resolve(view);
    };
    const onStop = () => end(undefined);
    stop.addEventListener('abort', onStop, { once: true });
    const parse = <T>(event: Event): T | undefined => {
      try {
        return JSON.parse((event as MessageEvent<string>).data) as T;
      } catch {
        return undefined;
      }
    };
    source.addEventListener('open', () => {
      errors = 0;
      open = true;
    });
    source.addEventListener('progress', (event) => {
      const p = parse<JobProgress>(event);
      if (!p) return;
      errors = 0;
      tell(p);
    });
    source.addEventListener('done', (event) => {
      const view = parse<JobView>(event);
      if (view) end(view);
    });
    source.addEventListener('error', () => {
      if (source.readyState === EventSourceClass.CLOSED) end(open ? 'cut' : undefined);
      else if (++errors >= STREAM_ERRORS_BEFORE_POLLING) end(undefined);
      open = false;
    });
  });
}

/**
 * Once `options.signal` aborts, asks the server to cancel the job. Resolves with the job when the answer shows
 * it ended already (a queued job is cancelled at once; one that finished first stays finished); otherwise stays
 * pending while the job's end arrives on the stream.
 * @throws EngineError `cancelled` when the server cannot be told or no longer knows the job.
 */
function cancelOnAbort(id: string, options: FollowOptions, stop: AbortSignal): Promise<JobView> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (!signal) return;
    const onAbort = () => {
      stop.removeEventListener('abort', onStop);
      fetchJson<JobView>(`${options.baseUrl}/api/generations/${encodeURIComponent(id)}`, { method: 'DELETE' }).then(
        (job) => (isEnded(job.status) ? resolve(job) : undefined),
        () => reject(cancelled()),
      );
    };
    const onStop = () => signal.removeEventListener('abort', onAbort);
    stop.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
