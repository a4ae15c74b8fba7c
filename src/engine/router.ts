import { describeError, RETRY_ON_SERVER } from '../core/errors.ts';
import type { RouteDecision } from '../core/capabilities.ts';
import type { GenerateRequest } from '../core/request.ts';
import type { Engine, EngineEvent, EngineResult } from './engine.ts';
import type { LocalEngine } from './localEngine.ts';

/**
 * Runs `request` where `decision` says. A local run that fails for a device reason (out of memory, lost
 * device, session error, download or storage failure) is retried on the server with the same request;
 * `onNotice` tells the user why. Invalid requests and cancellations are not retried.
 */
export async function generateRouted(options: {
  request: GenerateRequest;
  decision: RouteDecision;
  local: LocalEngine;
  remote: Engine;
  onEvent: (event: EngineEvent) => void;
  onNotice: (message: string) => void;
  signal?: AbortSignal;
}): Promise<EngineResult> {
  const { request, decision, local, remote, onEvent, onNotice, signal } = options;
  if (decision.target === 'server') return remote.generate(request, onEvent, signal);
  try {
    return await local.use(decision.executionProvider ?? 'webgpu').generate(request, onEvent);
  } catch (error) {
    const info = describeError(error);
    if (!RETRY_ON_SERVER.includes(info.code)) throw error;
    onNotice(`This device could not finish the image (${info.code}: ${info.message}). Generating the same request on the server instead.`);
    return { ...(await remote.generate(request, onEvent, signal)), fallbackFrom: info };
  }
}
