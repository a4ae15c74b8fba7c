import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian Chromium flags: SwiftShader's real WebGPU adapter (on the CPU), no network chatter. */
export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * Headless Debian Chromium with a persistent profile in a fresh folder (an incognito context cannot read
 * IndexedDB Blobs back, and service workers need a profile).
 * @param options.webgpu false starts Chromium without a WebGPU adapter (the app then runs on WASM).
 * @param options.incognito a private window instead: no profile on disk.
 * @param options.locale the browser's language (default en-US): the app's interface follows it.
 * @param options.viewport CSS pixels (default 1280x900; a phone is 390x844).
 * @param options.simple leave Advanced settings as the app keeps them (closed on a first visit); by default
 *   the tests' pages open them before the app starts, since most tests set steps, route or sampler.
 */
export async function launchBrowser(options: { webgpu?: boolean; incognito?: boolean; locale?: string; viewport?: { width: number; height: number }; simple?: boolean } = {}): Promise<Browser> {
  const args = options.webgpu === false ? CHROMIUM_ARGS.filter((a) => !a.includes('webgpu')) : CHROMIUM_ARGS;
  const launch = { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args };
  const contextOptions = { viewport: options.viewport ?? { width: 1280, height: 900 }, locale: options.locale ?? 'en-US' };
  let context: BrowserContext;
  let close: () => Promise<void>;
  if (options.incognito) {
    const browser = await chromium.launch(launch);
    context = await browser.newContext(contextOptions);
    close = () => browser.close();
  } else {
    const userDataDir = mkdtempSync(join(tmpdir(), 'ad-studio-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, { ...launch, ...contextOptions });
    close = async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    };
  }
  if (!options.simple) await context.addInitScript(openAdvancedSettings);
  return { context, page: context.pages()[0] ?? (await context.newPage()), close };
}

/** Runs in the page before the app: marks Advanced settings open in the saved draft, keeping the rest of it. */
function openAdvancedSettings(): void {
  try {
    const draft = JSON.parse(localStorage.getItem('ad-studio:draft') ?? '{}') as Record<string, unknown>;
    localStorage.setItem('ad-studio:draft', JSON.stringify({ ...draft, advancedOpen: true }));
  } catch {
    // storage disabled: the test opens nothing
  }
}

/** Sets this origin's storage quota, bytes (Chrome DevTools Protocol `Storage.overrideQuotaForOrigin`). */
export async function overrideQuota(page: Page, origin: string, quotaSize: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize });
}

/**
 * What IndexedDB holds of a model file, read in the page: the record, and the SHA-256 of its stored chunks
 * joined (raw IndexedDB: database `ad-studio-models`, store `files`, keys `file/<sha>` and `chunk/<sha>/<i>`).
 */
export async function storedFileInPage(page: Page, sha256: string): Promise<{ complete: boolean; verified: number; chunks: number; sha256?: string } | undefined> {
  return page.evaluate(async (sha) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('ad-studio-models');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const get = (key: string) =>
      new Promise<unknown>((resolve, reject) => {
        const request = db.transaction('files').objectStore('files').get(key);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const record = (await get(`file/${sha}`)) as { complete: boolean; verified: number; chunks: number } | undefined;
    if (!record) return undefined;
    const parts: ArrayBuffer[] = [];
    for (let i = 0; i < record.verified; i++) parts.push((await get(`chunk/${sha}/${i}`)) as ArrayBuffer);
    const joined = await new Blob(parts).arrayBuffer();
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', joined)), (b) => b.toString(16).padStart(2, '0')).join('');
    db.close();
    return { complete: record.complete, verified: record.verified, chunks: record.chunks, ...(record.complete ? { sha256: digest } : {}) };
  }, sha256);
}

/** Overwrites chunk `index` of a stored file with other bytes of the same length (damage at rest). */
export async function damageStoredChunk(page: Page, sha256: string, index: number): Promise<void> {
  await page.evaluate(
    async ([sha, i]) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('ad-studio-models');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const store = () => db.transaction('files', 'readwrite').objectStore('files');
      const key = `chunk/${sha}/${i}`;
      const bytes = await new Promise<ArrayBuffer>((resolve) => {
        const request = store().get(key);
        request.onsuccess = () => resolve(request.result as ArrayBuffer);
      });
      const damaged = new Uint8Array(bytes.slice(0));
      damaged[17] = damaged[17]! ^ 0xff;
      await new Promise<void>((resolve, reject) => {
        const request = store().put(damaged.buffer, key);
        request.onsuccess = () => resolve();
        request.onerror = () => reject(request.error);
      });
      db.close();
    },
    [sha256, index] as const,
  );
}
