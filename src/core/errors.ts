/**
 * Error codes that survive every boundary (worker -> page, server -> client): a class name is lost when an
 * error crosses postMessage or JSON, the code is not. Every error the project throws on purpose carries its
 * code from where it is thrown (a `code` property); anything else is a programming error, `internal`.
 * Errors are never classified by their message text.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unknown_model',
  'model_package',
  'model_download',
  'storage',
  'storage_full',
  'out_of_memory',
  'device_lost',
  'unsupported_operator',
  'session_error',
  'non_finite_image',
  'cancelled',
  'server_unreachable',
  'queue_full',
  'idempotency_conflict',
  'interrupted',
  'execution_provider_unavailable',
  /** A missing, malformed, unknown or revoked API key (HTTP 401). */
  'unauthorized',
  /** Too many requests in the rate-limit window for this key or client (HTTP 429, `retry-after`). */
  'rate_limited',
  /** The daily quota of server renders is used up until the next UTC midnight (HTTP 429, `retry-after`). */
  'quota_exceeded',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** For invalid_request: each bad field and what is wrong with it. */
  issues?: { field: string; message: string; rule?: string; limit?: number | string }[];
}

/** An error carrying its code; rebuilt on the receiving side of a boundary from an ErrorInfo. */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(readonly code: ErrorCode, message: string, readonly issues?: ErrorInfo['issues']) {
    super(message);
  }

  static from(info: ErrorInfo): EngineError {
    return new EngineError(info.code, info.message, info.issues);
  }
}

/**
 * Codes of failures that belong to this device (its GPU, memory, runtime, storage or network), after which the
 * same request is worth running on the server. Invalid requests, cancellations and programming errors
 * (`internal`) are not: they would fail there too, or hide a bug.
 */
export const DEVICE_CLASS_CODES: readonly ErrorCode[] = ['out_of_memory', 'device_lost', 'unsupported_operator', 'session_error', 'storage', 'storage_full', 'model_download'];

/** Codes after which a model that failed to load on this device is worth trying in another variant. */
export const NEXT_VARIANT_CODES: readonly ErrorCode[] = ['out_of_memory', 'unsupported_operator', 'session_error'];

const isErrorCode = (value: unknown): value is ErrorCode => typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);

/**
 * The code and message of any thrown value: its own `code` when it is one of ours (`EngineError`, or an error
 * class with a `code` field), `cancelled` for a DOM `AbortError`, otherwise `internal`.
 */
export function describeError(error: unknown): ErrorInfo {
  const e = error instanceof Error ? error : new Error(String(error));
  const { code, issues } = e as { code?: unknown; issues?: ErrorInfo['issues'] };
  if (isErrorCode(code)) return { code, message: e.message, ...(issues ? { issues } : {}) };
  if (e.name === 'AbortError') return { code: 'cancelled', message: e.message };
  return { code: 'internal', message: e.message || e.name };
}
