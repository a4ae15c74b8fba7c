import type { ErrorInfo } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { StageTimings } from '../core/types.ts';
import type { NodeRecord } from '../core/workflow/index.ts';
import type { WorkerEvent } from '../worker/engine.worker.ts';

/**
 * Progress the UI shows: download bytes, model loading, steps, latent previews on either route (`url`: a small
 * PNG as a data: URL, made after denoising step `step`), `layout` (the ad copy is being laid over the picture),
 * and from the server its queue, its model loading, the time left (`ms`, milliseconds) and the image download.
 */
export type EngineEvent =
  | WorkerEvent
  | { stage: 'queued'; position: number }
  | { stage: 'server_load' }
  | { stage: 'eta'; ms: number }
  | { stage: 'fetch' };

/** One generated image, wherever it was computed. */
export interface EngineResult {
  /** The final image (with the ad copy when the request had copy). */
  png: Uint8Array;
  /** The picture without the ad copy, when the layout node applied copy: the page edits the copy on it without generating again. */
  rawPng?: Uint8Array;
  /** The ad workflow's nodes (prompt, txt2img | img2img, layout, export): status, start, duration, error code, facts. */
  nodes: NodeRecord[];
  width: number;
  height: number;
  seed: number;
  /** 'device' (this browser) or 'server'. */
  route: 'device' | 'server';
  /** The ONNX Runtime execution provider that ran the UNet: 'webgpu', 'wasm', or the server's 'cpu' / 'cuda'. */
  executionProvider: string;
  /** The model variant this device ran (`q4f16`, ...); absent for the server, which runs the full checkpoint. */
  variant?: string;
  /** The VAE overflowed and its float32 version decoded the image. */
  fp32VaeRetry?: boolean;
  /** Where the denoising loop kept the latents (this device only). */
  denoisedOn?: 'device' | 'host';
  /** Where this device kept the model: `memory` when it could not store it (a private window, full storage). */
  storage?: 'indexeddb' | 'memory';
  timings: StageTimings;
  truncated: Partial<Record<'prompt' | 'negative_prompt', string>>;
  /** Set when a local run failed and the server produced this image instead. */
  fallbackFrom?: ErrorInfo;
}

/** The server's engine (a request in, an image out). */
export interface Engine {
  /** @throws EngineError with a code; `cancelled` when `signal` stopped the run. */
  generate(request: GenerateRequest, onEvent: (event: EngineEvent) => void, signal?: AbortSignal): Promise<EngineResult>;
}
