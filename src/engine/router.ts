import type { RouteDecision } from '../core/capabilities.ts';
import { DEVICE_CLASS_CODES, describeError, EngineError, NEXT_VARIANT_CODES, type ErrorCode, type ErrorInfo } from '../core/errors.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { Engine, EngineEvent, EngineResult } from './engine.ts';
import type { LocalEngine } from './localEngine.ts';

/** What a device failure means, in plain words. */
const PLAIN: Partial<Record<ErrorCode, string>> = {
  out_of_memory: 'it ran out of memory',
  device_lost: 'its graphics device stopped responding',
  unsupported_operator: 'its graphics runtime lacks an operation the model needs',
  session_error: 'its runtime could not run the model',
  storage: 'its storage could not be used',
  storage_full: "its storage for this site is full",
  model_download: 'the model could not be downloaded',
};

/**
 * `it ran out of memory (out_of_memory: <detail>)`: plain words first, the code and detail for a support request.
 * @param plain the plain words per code in the page's language (English by default).
 */
export const plainReason = (info: ErrorInfo, plain: Partial<Record<ErrorCode, string>> = PLAIN) => `${plain[info.code] ?? info.message} (${info.code}: ${info.message})`;

/**
 * What the router tells the user while it goes on: a variant failed here and the next is tried, or the device
 * failed and the server takes the same request. The page words it in its language (`PLAIN` is the English).
 */
export type RouteNotice = { kind: 'variant_failed'; variant: string; next: string; info: ErrorInfo } | { kind: 'device_failed'; info: ErrorInfo };

/**
 * Runs `request` where `decision` says. When this device fails for a device reason, the user is told in plain
 * words and, if the failure was loading this variant (out of memory, an unsupported operator, a runtime
 * failure), the variant is remembered as failed here and the next one the device can run is tried; otherwise
 * (or when none is left) the same request goes to the server. Invalid requests, cancellations and programming
 * errors (`internal`) are reported, never re-run elsewhere.
 * @param redecide the route once a variant failure is recorded, or when this device was chosen before the model's
 *   details were loaded (the page's capability check, after loading them).
 * @param signal stops the run on whichever route it is; once aborted nothing is tried again or sent elsewhere.
 * @throws EngineError from the engine that ran last; `cancelled` once `signal` aborted.
 */
export async function generateRouted(options: {
  request: GenerateRequest;
  decision: RouteDecision;
  local: LocalEngine;
  remote: Engine;
  onEvent: (event: EngineEvent) => void;
  onNotice: (notice: RouteNotice) => void;
  redecide: () => Promise<RouteDecision>;
  signal?: AbortSignal;
}): Promise<EngineResult> {
  const { request, local, remote, onEvent, onNotice, signal } = options;
  let decision = options.decision;
  for (const tried = new Set<string>(); ; ) {
    if (decision.target === 'server') return remote.generate(request, onEvent, signal);
    if (!decision.variant && !tried.has('')) {
      // this device was chosen before the model's details came: load them now, then decide again
      tried.add('');
      decision = await options.redecide();
      continue;
    }
    if (!decision.variant) {
      const info: ErrorInfo = { code: 'model_download', message: `the details of model "${request.model ?? ''}" could not be loaded on this device` };
      onNotice({ kind: 'device_failed', info });
      return { ...(await remote.generate(request, onEvent, signal)), fallbackFrom: info };
    }
    const variant = decision.variant;
    tried.add(variant);
    let info: ErrorInfo;
    try {
      const plan = { variant, executionProvider: decision.executionProvider ?? 'webgpu', residency: decision.residency ?? 'resident', vaeCapBytes: decision.vaeCapBytes ?? Infinity } as const;
      return await local.generate(request, plan, onEvent, signal);
    } catch (error) {
      info = describeError(error);
      if (!DEVICE_CLASS_CODES.includes(info.code)) throw error;
    }
    // a device failure that raced a cancel: the user asked to stop, so nothing runs again
    if (signal?.aborted) throw new EngineError('cancelled', 'generation cancelled');
    if (NEXT_VARIANT_CODES.includes(info.code)) {
      await local.recordFailure(request.model!, variant, PLAIN[info.code] ?? info.code).catch(() => undefined);
      const next = await options.redecide();
      if (next.target === 'device' && next.variant && !tried.has(next.variant)) {
        onNotice({ kind: 'variant_failed', variant, next: next.variant, info });
        decision = next;
        continue;
      }
    }
    onNotice({ kind: 'device_failed', info });
    return { ...(await remote.generate(request, onEvent, signal)), fallbackFrom: info };
  }
}
