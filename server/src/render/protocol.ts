/**
 * Messages between the server's main thread and its render worker (a worker thread that owns
 * onnxruntime-node sessions, so the HTTP side never waits on a model run). Plain data only: errors travel as
 * `ErrorInfo` with their code.
 */
import type { ErrorInfo } from '../../../src/core/errors.ts';
import type { GenerateRequest } from '../../../src/core/request.ts';
import type { GenerateOutput, ProgressEvent } from '../../../src/core/types.ts';
import type { NodeRecord } from '../../../src/core/workflow/index.ts';
import type { CachedSession, FileInfo } from './sessionCache.ts';

/** What the worker needs to start. */
export interface RenderWorkerData {
  /** file: URL of renderWorker.ts (loaded through tsx by bootstrap.mjs). */
  entry: string;
  modelsDir: string;
  /** Folder under `modelsDir` of the translation model, used when present; empty for none. */
  translationModel: string;
  executionProvider: string;
  /** Bytes of model weights kept loaded (idle sessions of other models are released past it). */
  memoryBudgetBytes: number;
}

/** The engine's models: what is loaded, and how often each component's session was created. */
export interface EngineModels {
  loadedModel: string | undefined;
  sessions: CachedSession[];
  created: Record<string, number>;
}

export type ToWorker =
  | { type: 'generate'; id: string; request: GenerateRequest; previewEvery: number; files: Record<string, FileInfo> }
  | { type: 'cancel'; id: string }
  | { type: 'close' };

/**
 * A finished run of the ad workflow (the pipeline's facts without its pixels): the PNG bytes cross to the main
 * thread, which stores them; `rawPng` (the picture without the ad copy) only when the layout node applied copy.
 */
export type RenderOutput = Pick<GenerateOutput, 'png' | 'width' | 'height' | 'seed' | 'executionProvider' | 'timings' | 'truncated'> & { rawPng?: Uint8Array; nodes: NodeRecord[] };

export type FromWorker =
  | { type: 'ready'; executionProvider: string }
  | { type: 'startup_failed'; error: ErrorInfo }
  | { type: 'progress'; id: string; event: ProgressEvent }
  | { type: 'preview'; id: string; step: number; png: Uint8Array }
  | { type: 'loaded'; models: EngineModels }
  | { type: 'result'; id: string; output: RenderOutput }
  | { type: 'failed'; id: string; error: ErrorInfo; nodes?: NodeRecord[] }
  | { type: 'closed' };
