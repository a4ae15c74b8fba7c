import { Worker } from 'node:worker_threads';
import { EngineError } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { ProgressEvent } from '../../../src/core/types.ts';
import type { EngineModels, FromWorker, RenderOutput, RenderWorkerData, ToWorker } from './protocol.ts';
import type { FileInfo } from './sessionCache.ts';

/** What a render reports while it runs: the pipeline's progress, and preview PNGs of the latents. */
export type RenderEvent = ProgressEvent | { stage: 'preview'; step: number; png: Uint8Array };

interface Pending {
  onEvent: (event: RenderEvent) => void;
  resolve: (output: RenderOutput) => void;
  reject: (error: Error) => void;
}

/**
 * One render engine: a worker thread that owns the onnxruntime-node sessions (one execution provider, one
 * set of loaded models) and runs generations one at a time, so model runs never block the HTTP event loop.
 * A worker that dies fails its running generation with `internal` and is started again for the next one.
 */
export class RenderEngine {
  private worker!: Worker;
  private readyPromise!: Promise<string>;
  private readonly pending = new Map<string, Pending>();
  private closing = false;
  /** Execution provider the sessions run on, once the worker is ready. */
  executionProvider: string | undefined;
  /** The worker's models: the loaded one, cached sessions, session creations per component. */
  models: EngineModels = { loadedModel: undefined, sessions: [], created: {} };

  /** @param options.memoryBudgetBytes model weights kept loaded, bytes (see SessionCache). */
  /** @param options.translationModel folder under `modelsDir` of the translation model, used when present (default none). */
  constructor(private readonly options: { modelsDir: string; executionProvider: string; memoryBudgetBytes: number; translationModel?: string }) {
    this.start();
  }

  private start(): void {
    const workerData: RenderWorkerData = {
      entry: new URL('./renderWorker.ts', import.meta.url).href,
      modelsDir: this.options.modelsDir,
      translationModel: this.options.translationModel ?? '',
      executionProvider: this.options.executionProvider,
      memoryBudgetBytes: this.options.memoryBudgetBytes,
    };
    // no inherited execArgv: bootstrap.mjs registers tsx itself, and a parent's preloads need not load in a worker
    const worker = new Worker(new URL('./bootstrap.mjs', import.meta.url), { workerData, name: 'render', execArgv: [] });
    this.worker = worker;
    this.readyPromise = new Promise((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve((this.executionProvider = message.executionProvider));
        else if (message.type === 'startup_failed') {
          // a runtime that cannot start will not start on a retry either: stay down and say why
          this.closing = true;
          reject(EngineError.from(message.error));
        } else this.onMessage(message);
      });
      worker.once('exit', (code) => {
        reject(new EngineError('internal', `the render worker exited (code ${code}) before it was ready`));
        this.onExit(worker, code);
      });
    });
    this.readyPromise.catch(() => undefined);
    worker.on('error', () => undefined); // reported through 'exit'
  }

  /**
   * Resolves with the execution provider once the worker has created its runtime.
   * @throws EngineError with the worker's code when the runtime cannot start (an execution provider that is absent).
   */
  ready(): Promise<string> {
    return this.readyPromise;
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'loaded') {
      this.models = message.models;
      return;
    }
    if (message.type === 'closed' || message.type === 'ready' || message.type === 'startup_failed') return;
    const job = this.pending.get(message.id);
    if (!job) return;
    switch (message.type) {
      case 'progress':
        job.onEvent(message.event);
        break;
      case 'preview':
        job.onEvent({ stage: 'preview', step: message.step, png: message.png });
        break;
      case 'result':
        this.pending.delete(message.id);
        job.resolve(message.output);
        break;
      case 'failed':
        this.pending.delete(message.id);
        // the workflow's records so far travel with the error (`nodesOf`)
        job.reject(Object.assign(EngineError.from(message.error), message.nodes ? { nodes: message.nodes } : {}));
        break;
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.models = { loadedModel: undefined, sessions: [], created: {} };
    for (const [id, job] of this.pending) {
      this.pending.delete(id);
      job.reject(new EngineError('internal', `the render worker stopped (exit code ${code}) during the generation`));
    }
    if (!this.closing) this.start();
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /**
   * Runs one request through the ad workflow in the worker (prompt, txt2img | img2img, layout, export).
   * @param id the job id (names the generation in messages).
   * @param request a validated request with `model` resolved.
   * @param files the model package's files by package-relative path, from its manifest: sessions of files
   *   with equal hashes are shared between packages.
   * @param previewEvery a preview PNG every this many denoising steps (0: none).
   * @param signal aborting it cancels the generation at its next step (rejects with code `cancelled`).
   * @throws EngineError with the failing node's code, carrying the node records as `nodes`; `internal` when the worker died.
   */
  async run(id: string, request: GenerateRequest, files: Record<string, FileInfo>, onEvent: (event: RenderEvent) => void, signal: AbortSignal, previewEvery = 0): Promise<RenderOutput> {
    await this.ready();
    return new Promise<RenderOutput>((resolve, reject) => {
      const onAbort = () => this.post({ type: 'cancel', id });
      const settle = <T>(fn: (value: T) => void) => (value: T) => {
        signal.removeEventListener('abort', onAbort);
        fn(value);
      };
      this.pending.set(id, { onEvent, resolve: settle(resolve), reject: settle(reject) });
      signal.addEventListener('abort', onAbort, { once: true });
      this.post({ type: 'generate', id, request, previewEvery, files });
      if (signal.aborted) onAbort();
    });
  }

  /** Lets the running generation end, releases the sessions and stops the worker (terminated after `timeoutMs`). */
  async close(timeoutMs = 60_000): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.post({ type: 'close' });
    const timer = setTimeout(() => void worker.terminate(), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
