import * as Comlink from 'comlink';
import type { AdapterReport } from '../core/capabilities.ts';
import { EngineError } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { WorkerApi, WorkerEvent, WorkerResult } from '../worker/engine.worker.ts';
import type { WebExecutionProvider } from '../worker/ortWebRuntime.ts';
import type { Engine, EngineEvent, EngineResult } from './engine.ts';

/**
 * Runs generations in this browser, in a Web Worker. A worker that dies (out of memory, crash) fails
 * the pending call with a code instead of hanging, and is replaced on the next call.
 */
export class LocalEngine implements Engine {
  private worker: Worker | undefined;
  private api: Comlink.Remote<WorkerApi> | undefined;
  private died: Promise<never> | undefined;

  constructor(private executionProvider: WebExecutionProvider = 'webgpu') {}

  /** Chooses the provider for the next generations ('webgpu', or 'wasm' without an adapter). */
  use(executionProvider: WebExecutionProvider): this {
    this.executionProvider = executionProvider;
    return this;
  }

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

  /** Downloads and loads `modelId` ahead of the first generation. */
  prepare(modelId: string, onEvent: (event: WorkerEvent) => void): Promise<void> {
    return this.call((api) => api.prepare(modelId, this.executionProvider, Comlink.proxy(onEvent)));
  }

  async generate(request: GenerateRequest, onEvent: (event: EngineEvent) => void): Promise<EngineResult> {
    const out = await this.call((api) => api.generate(request, this.executionProvider, Comlink.proxy(onEvent)));
    return { ...out, route: 'device' };
  }

  terminate(): void {
    this.worker?.terminate();
    this.worker = this.api = this.died = undefined;
  }
}
