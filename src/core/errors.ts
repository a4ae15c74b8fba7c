/**
 * Error codes that survive every boundary (worker -> page, server -> client): a class name is lost when an
 * error crosses postMessage or JSON, the code is not.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'unknown_model'
  | 'model_package'
  | 'model_download'
  | 'storage'
  | 'out_of_memory'
  | 'device_lost'
  | 'session_error'
  | 'cancelled'
  | 'server_unreachable'
  | 'internal';

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  /** For invalid_request: each bad field and what is wrong with it. */
  issues?: { field: string; message: string }[];
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

/** Codes after which the app retries a local generation on the server. */
export const RETRY_ON_SERVER: readonly ErrorCode[] = ['out_of_memory', 'device_lost', 'session_error', 'model_download', 'storage', 'internal'];

const byName: Record<string, ErrorCode> = {
  RequestValidationError: 'invalid_request',
  UnknownModelError: 'unknown_model',
  ModelPackageError: 'model_package',
  ModelFileMissingError: 'model_package',
  ModelContractError: 'model_package',
  TokenizerFileError: 'model_package',
  SchedulerConfigError: 'model_package',
  GenerationCancelledError: 'cancelled',
  AbortError: 'cancelled',
};

/**
 * Classifies any thrown value. Runtime errors are recognised by their messages: onnxruntime and WebGPU
 * report allocation failures ("out of memory", "Failed to allocate", "OOM") and lost devices
 * ("device lost", "Device is lost", GPUDeviceLostInfo); other onnxruntime failures are session errors.
 */
export function describeError(error: unknown): ErrorInfo {
  if (error instanceof EngineError) return { code: error.code, message: error.message, issues: error.issues };
  const e = error instanceof Error ? error : new Error(String(error));
  const issues = (e as { issues?: ErrorInfo['issues'] }).issues;
  const named = byName[e.name];
  if (named) return { code: named, message: e.message, ...(issues ? { issues } : {}) };
  const text = `${e.name} ${e.message}`;
  if (/out of memory|failed to allocate|\boom\b|allocation failed|RangeError: Array buffer allocation/i.test(text)) return { code: 'out_of_memory', message: e.message };
  if (/device (is )?lost|devicelost/i.test(text)) return { code: 'device_lost', message: e.message };
  if (/onnx|\bort(run|\b)|session|webgpu|wasm|kernel|execution provider/i.test(text)) return { code: 'session_error', message: e.message };
  return { code: 'internal', message: e.message };
}
