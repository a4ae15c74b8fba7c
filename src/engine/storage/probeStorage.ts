import { createStore, del, get, set } from 'idb-keyval';

/**
 * Whether IndexedDB can keep model files here: an ArrayBuffer is written and read back. False where
 * IndexedDB is missing or refuses (some private windows); the app then downloads into memory for the page.
 */
export async function probeStorage(): Promise<boolean> {
  try {
    const store = createStore('ad-studio-probe', 'probe');
    await set('probe', new ArrayBuffer(8), store);
    const back = await get<ArrayBuffer>('probe', store);
    await del('probe', store);
    return back instanceof ArrayBuffer && back.byteLength === 8;
  } catch {
    return false;
  }
}
