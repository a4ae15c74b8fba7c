import { describeError, EngineError } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { Engine, EngineEvent, EngineResult } from './engine.ts';
import { followJob } from './followJob.ts';
import { clearPendingJob, loadPendingJob, savePendingJob, type PendingJob } from './pendingJob.ts';
import { fetchJson, serverError, type JobView } from './serverJob.ts';

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Runs generations on the Ad Studio server: submit (202 + job id), follow the job's progress as Server-Sent
 * Events (polling when the stream cannot be used), download the PNG by its content hash and check the hash.
 * The job waited on is kept in IndexedDB until it ends, so a reloaded page can re-attach to it (`pendingJob`,
 * `attach`).
 */
export class RemoteEngine implements Engine {
  /** @param pollMs longest wait between status reads when polling; the first reads come sooner, for short jobs. */
  constructor(private readonly baseUrl = '', private readonly pollMs = 250) {}

  /**
   * Submits `request` and waits for its image.
   * @param signal aborting it cancels the job on the server (`DELETE`); the run then ends as `cancelled`.
   * @throws EngineError: the server's code for a refused request (`invalid_request`, `quota_exceeded`, ...),
   *   the job's error code when it failed, `cancelled`, `server_unreachable`.
   */
  async generate(request: GenerateRequest, onEvent: (event: EngineEvent) => void, signal?: AbortSignal): Promise<EngineResult> {
    if (signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
    const submitted = await fetchJson<JobView>(`${this.baseUrl}/api/generations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    const job: PendingJob = { id: submitted.id, request, submittedAt: new Date().toISOString() };
    await savePendingJob(job);
    return this.attach(job, onEvent, signal);
  }

  /** The server job an earlier visit of this page was waiting on, if IndexedDB kept one. */
  pendingJob(): Promise<PendingJob | undefined> {
    return loadPendingJob();
  }

  /**
   * Waits for server job `job` (submitted by `generate`, here or before a reload) to end and returns its image.
   * The kept job is forgotten once it has ended, been cancelled, or is unknown to the server.
   * @throws as `generate`; `interrupted` when the server no longer knows the job.
   */
  async attach(job: PendingJob, onEvent: (event: EngineEvent) => void, signal?: AbortSignal): Promise<EngineResult> {
    let view: JobView;
    try {
      view = await followJob(job.id, { baseUrl: this.baseUrl, onEvent, pollMs: this.pollMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      // the server cannot be reached: the job may still finish there, and a reload re-attaches to it
      if (describeError(error).code !== 'server_unreachable') await clearPendingJob(job.id);
      throw error;
    }
    try {
      return await this.image(view, onEvent);
    } finally {
      await clearPendingJob(job.id);
    }
  }

  /** A PNG of the server's image store, checked against its SHA-256. */
  private async download(url: string, sha256: string): Promise<Uint8Array> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${url}`);
    } catch (error) {
      throw new EngineError('server_unreachable', `the image could not be downloaded (${(error as Error).message})`);
    }
    if (!response.ok) throw new EngineError('server_unreachable', `the image could not be downloaded (HTTP ${response.status})`);
    const png = new Uint8Array(await response.arrayBuffer());
    const digest = await sha256Hex(png);
    if (digest !== sha256) throw new EngineError('internal', `downloaded image hash ${digest} does not match ${sha256}`);
    return png;
  }

  /** The image of an ended job (and the raw picture without the ad copy, when there is one), checked against their SHA-256. */
  private async image(job: JobView, onEvent: (event: EngineEvent) => void): Promise<EngineResult> {
    if (job.status === 'cancelled') throw new EngineError('cancelled', 'generation cancelled');
    if (job.status !== 'succeeded' || !job.result || !job.image_url) {
      throw job.error ? serverError(job.error, 200) : new EngineError('internal', `the server job ended as ${job.status}`);
    }
    onEvent({ stage: 'fetch' });
    const { sha256, raw_sha256 } = job.result;
    const [png, rawPng] = await Promise.all([
      this.download(job.image_url, sha256),
      job.raw_image_url && raw_sha256 ? this.download(job.raw_image_url, raw_sha256) : undefined,
    ]);
    const { width, height, seed, execution_provider, timings, truncated } = job.result;
    return { png, ...(rawPng ? { rawPng } : {}), nodes: job.nodes ?? [], width, height, seed, route: 'server', executionProvider: execution_provider, timings, truncated };
  }
}
