import { EngineError, type ErrorInfo } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { Engine, EngineEvent, EngineResult } from './engine.ts';

interface JobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  queue_position: number;
  progress: { stage: string; step: number; total_steps: number };
  result?: { sha256: string; width: number; height: number; seed: number; execution_provider: string; timings: EngineResult['timings']; truncated: EngineResult['truncated'] };
  image_url?: string;
  error?: ErrorInfo;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Runs generations on the Ad Studio server: submit (202 + job id), poll the job's progress, download
 * the PNG by its content hash and check the hash.
 */
export class RemoteEngine implements Engine {
  /** @param pollMs longest wait between status reads; the first reads come sooner, for short jobs. */
  constructor(private readonly baseUrl = '', private readonly pollMs = 250) {}

  private async fetchJson<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch (error) {
      throw new EngineError('server_unreachable', `the server cannot be reached (${(error as Error).message})`);
    }
    const body = (await response.json().catch(() => ({}))) as T & { error?: ErrorInfo };
    if (!response.ok && body.error) throw EngineError.from(body.error);
    if (!response.ok) throw new EngineError('server_unreachable', `the server answered HTTP ${response.status}`);
    return { status: response.status, body };
  }

  async generate(request: GenerateRequest, onEvent: (event: EngineEvent) => void, signal?: AbortSignal): Promise<EngineResult> {
    const { body: submitted } = await this.fetchJson<JobView>('/api/generations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    let job = submitted;
    let wait = 25;
    while (job.status === 'queued' || job.status === 'running') {
      if (signal?.aborted) {
        await this.fetchJson(`/api/generations/${job.id}`, { method: 'DELETE' }).catch(() => undefined);
        throw new EngineError('cancelled', 'generation cancelled');
      }
      if (job.status === 'queued') onEvent({ stage: 'queued', position: job.queue_position });
      else if (job.progress.stage === 'denoise') onEvent({ stage: 'denoise', step: job.progress.step, totalSteps: job.progress.total_steps });
      else if (job.progress.stage === 'encode' || job.progress.stage === 'decode') onEvent({ stage: job.progress.stage });
      await sleep(wait);
      wait = Math.min(wait * 2, this.pollMs);
      job = (await this.fetchJson<JobView>(`/api/generations/${job.id}`)).body;
    }
    if (job.status !== 'succeeded' || !job.result || !job.image_url) {
      throw EngineError.from(job.error ?? { code: 'internal', message: `the server job ended as ${job.status}` });
    }
    onEvent({ stage: 'fetch' });
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${job.image_url}`);
    } catch (error) {
      throw new EngineError('server_unreachable', `the image could not be downloaded (${(error as Error).message})`);
    }
    const png = new Uint8Array(await response.arrayBuffer());
    const digest = await sha256Hex(png);
    if (digest !== job.result.sha256) throw new EngineError('internal', `downloaded image hash ${digest} does not match ${job.result.sha256}`);
    const { width, height, seed, execution_provider, timings, truncated } = job.result;
    return { png, width, height, seed, route: 'server', executionProvider: execution_provider, timings, truncated };
  }
}
