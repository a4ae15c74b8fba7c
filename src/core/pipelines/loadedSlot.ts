/** Something that holds runtime memory until released (a loaded pipeline). */
export interface Releasable {
  release(): Promise<void>;
}

/**
 * Holds one loaded value at a time, by key: asking for another key releases the previous value first (an
 * SDXL checkpoint takes gigabytes, so two never stay loaded), asking again for the same key reuses the load
 * in flight or done, and a failed load is forgotten so the next call tries again. Used by the browser
 * worker and the server's model registry.
 */
export class LoadedSlot<T extends Releasable> {
  private current: { key: string; value: Promise<T> } | undefined;

  /** The value for `key`, from `load()` unless it is already loaded or loading. @throws what `load` throws. */
  get(key: string, load: () => Promise<T>): Promise<T> {
    if (this.current?.key === key) return this.current.value;
    const previous = this.current;
    const value = (async () => {
      await (await previous?.value.catch(() => undefined))?.release();
      return load();
    })();
    this.current = { key, value };
    value.catch(() => {
      if (this.current?.value === value) this.current = undefined;
    });
    return value;
  }

  /** Drops the value without releasing it (its device is gone, so release could not run). */
  forget(): void {
    this.current = undefined;
  }

  /** Releases the value, if any loaded. */
  async release(): Promise<void> {
    const value = this.current?.value;
    this.current = undefined;
    await (await value?.catch(() => undefined))?.release();
  }
}
