import { createStore, del, get, set } from 'idb-keyval';

/**
 * Whether IndexedDB works here at all: a small ArrayBuffer is written, read back and deleted. False where
 * IndexedDB is missing or refuses (some private windows); the app then downloads into memory for the page.
 * A quota too small for a model shows up later, as QuotaExceededError while downloading it.
 */
export async function probeStorage(): Promise<boolean> {
  try {
    const store = createStore('ad-studio-probe', 'probe');
    await set('probe', new Uint8Array(64).fill(7).buffer, store);
    const back = await get<ArrayBuffer>('probe', store);
    await del('probe', store);
    return back instanceof ArrayBuffer && back.byteLength === 64;
  } catch {
    return false;
  }
}
