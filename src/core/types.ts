/**
 * Events the pipeline (and the ad workflow around it, `src/core/workflow`) reports while it works; hosts forward them to the UI (worker messages, server job
 * status). `step` counts from 1.
 */
export type ProgressEvent =
  | { stage: 'load'; component: string; index: number; total: number }
  | { stage: 'encode' }
  | { stage: 'denoise'; step: number; totalSteps: number }
  | { stage: 'decode' }
  /** The ad workflow lays the copy over the picture (after decoding; only when the request has copy). */
  | { stage: 'layout' };

/** The part of `AbortSignal` the core needs (the DOM and Node types are not available to it). */
export interface CancelSignal {
  readonly aborted: boolean;
}

/** Thrown between steps when the caller's signal was aborted. */
export class GenerationCancelledError extends Error {
  override readonly name = 'GenerationCancelledError';
  readonly code = 'cancelled';
  constructor() {
    super('generation cancelled');
  }
}

/** Milliseconds spent per stage of one generation. */
export interface StageTimings {
  encodeMs: number;
  denoiseMs: number;
  decodeMs: number;
  totalMs: number;
  /** Of `totalMs`, the time inside session runs. */
  runMs: number;
  /** Of `totalMs`, the time creating sessions (sequential residency creates them during the generation). */
  loadMs: number;
}

/**
 * The pipeline's own share of a generation: time outside session runs and session creation (tokenizing,
 * casting, guidance and scheduler arithmetic on the host, decoding to RGBA and PNG), over the generation's
 * time without session creation.
 */
export function pipelineOverhead(t: StageTimings): number {
  const work = t.totalMs - t.loadMs;
  return work > 0 ? (work - t.runMs) / work : 0;
}

/** What the pipeline produces for one request. */
export interface GenerateOutput {
  /** The image as a PNG file (8-bit RGBA). */
  png: Uint8Array;
  /** Raw pixels, row-major RGBA, `width * height * 4` bytes. */
  rgba: Uint8Array;
  width: number;
  height: number;
  seed: number;
  /** Execution provider the sessions ran on ('webgpu', 'wasm', 'cpu', 'cuda'). */
  executionProvider: string;
  timings: StageTimings;
  /** Text cut from each prompt to fit the tokenizers' 77 tokens, per request field; empty when none. */
  truncated: Partial<Record<'prompt' | 'negative_prompt', string>>;
  /** The VAE gave NaN or Inf and the package's float32 VAE decoded the image instead. */
  fp32VaeRetry: boolean;
  /** Where the denoising loop kept the latents: on the device (GPU buffers between steps) or on the host. */
  denoisedOn: 'device' | 'host';
}
