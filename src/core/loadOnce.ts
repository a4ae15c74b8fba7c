/**
 * A loader that runs `load` once and shares its promise with every caller; a failed load is forgotten, so the
 * next call tries again (a wasm or font fetch that failed offline works once the network is back).
 * @param load the work, e.g. fetching and compiling a wasm module.
 * @returns a function giving the one shared promise.
 */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}
