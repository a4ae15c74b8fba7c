/**
 * Read access to one model package (paths are relative to the package root, `/`-separated:
 * `model_index.json`, `unet/model.onnx`). The browser worker backs it with IndexedDB, the server with a
 * directory.
 */
export interface FileStore {
  /** @throws ModelFileMissingError when the file is not in the package. */
  readText(path: string): Promise<string>;
  /** @throws ModelFileMissingError when the file is not in the package. */
  readBytes(path: string): Promise<Uint8Array>;
  exists(path: string): Promise<boolean>;
  /**
   * A native file path for `path`, for runtimes that load models by path (onnxruntime-node resolves
   * external data beside the model file); undefined when the store has no files on disk.
   */
  localPath?(path: string): string | undefined;
}

/** A file the pipeline needs is not in the package (or not downloaded yet). */
export class ModelFileMissingError extends Error {
  override readonly name = 'ModelFileMissingError';
  readonly code = 'model_package';
  constructor(readonly path: string, detail = '') {
    super(`model file missing: ${path}${detail ? ` (${detail})` : ''}`);
  }
}

/** Reads and parses a JSON file. @throws ModelFileMissingError, or SyntaxError naming the file. */
export async function readJson<T>(store: FileStore, path: string): Promise<T> {
  const text = await store.readText(path);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new SyntaxError(`${path}: ${(error as Error).message}`);
  }
}
