import * as Comlink from 'comlink';
import type { AdapterReport } from '../core/capabilities.ts';
import { EngineError } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { DevicePlan, ModelState, WorkerApi, WorkerEvent, WorkerResult } from '../worker/engine.worker.ts';
import type { EngineEvent, EngineResult } from './engine.ts';

/**
 * Runs generations in this browser, in a Web Worker, and manages the models kept here. A worker that dies
 * (out of memory, crash) fails the pending call with a code instead of hanging, and is replaced on the next call.
 */
export class LocalEngine {
  private worker: Worker | undefined;
  private api: Comlink.Remote<WorkerApi> | undefined;
  private died: Promise<never> | undefined;
  private generations = 0;

  private connect(): { api: Comlink.Remote<WorkerApi>; died: Promise<never> } {
    if (!this.worker || !this.api || !this.died) {
      const worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'ad-studio-engine' });
      this.worker = worker;
      this.api = Comlink.wrap<WorkerApi>(worker);
      this.died = new Promise<never>((_, reject) => {
        worker.addEventListener('error', (event) => {
          this.worker = this.api = this.died = undefined;
          worker.terminate();
          reject(new EngineError('device_lost', `the generation worker stopped: ${event.message || 'it ran out of memory or crashed'}`));
        });
      });
      this.died.catch(() => undefined);
    }
    return { api: this.api, died: this.died };
  }

  private async call<T>(work: (api: Comlink.Remote<WorkerApi>) => Promise<WorkerResult<T>>): Promise<T> {
    const { api, died } = this.connect();
    const result = await Promise.race([work(api), died]);
    if (!result.ok) throw EngineError.from(result.error);
    return result.value;
  }

  probe(): Promise<AdapterReport> {
    const { api, died } = this.connect();
    return Promise.race([api.probe(), died]);
  }

  /** The model's manifest and what this device has of it. */
  modelState(modelId: string): Promise<ModelState> {
    return this.call((api) => api.modelState(modelId));
  }

  /** Downloads a variant into this device's storage (resuming what an earlier visit left). */
  download(modelId: string, variant: string, onEvent: (event: WorkerEvent) => void): Promise<void> {
    return this.call((api) => api.download(modelId, variant, Comlink.proxy(onEvent)));
  }

  /** Re-checks a stored variant chunk by chunk; returns how many chunks were fetched again. */
  verify(modelId: string, variant: string): Promise<{ repaired: number }> {
    return this.call((api) => api.verify(modelId, variant));
  }

  /** Remembers that a variant failed to load on this device. */
  recordFailure(modelId: string, variant: string, reason: string): Promise<void> {
    return this.call((api) => api.recordFailure(modelId, variant, reason));
  }

  /**
   * The server's registered translation package (`GET /api/models` `translation_model`), passed with every run so
   * the worker translates Korean `ad.text` with it; undefined: the glossary translates.
   */
  translationModel: string | undefined;

  /**
   * Runs `request` in the worker with `plan` (and `translationModel`).
   * @param signal aborting it stops the worker's run: the model download at once, the pipeline before its next
   *   stage or step (the worker is told by id: an AbortSignal cannot cross postMessage).
   * @throws EngineError with the worker's code; `cancelled` when `signal` aborted first.
   */
  async generate(request: GenerateRequest, plan: DevicePlan, onEvent: (event: EngineEvent) => void, signal?: AbortSignal): Promise<EngineResult> {
    if (signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
    const id = String(++this.generations);
    let api: Comlink.Remote<WorkerApi> | undefined;
    const cancel = () => void api?.cancel(id).catch(() => undefined);
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const out = await this.call((remote) => ((api = remote), remote.generate(request, this.translationModel ? { ...plan, translationModel: this.translationModel } : plan, Comlink.proxy(onEvent), id)));
      return { ...out, route: 'device', variant: plan.variant };
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** Frees the storage `modelId` takes here (files another model uses stay). */
  remove(modelId: string): Promise<void> {
    return this.call((api) => api.remove(modelId));
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = this.api = this.died = undefined;
  }
}
