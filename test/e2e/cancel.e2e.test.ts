/**
 * Cancel on both routes, re-attaching to a server job after a reload, and server progress over Server-Sent
 * Events (previews, ETA), in headless Debian Chromium against the real server on loopback with real IndexedDB.
 * Runs are made long and Cancel is clicked once a step has been shown, so nothing depends on timing: 150 steps,
 * on the server of a copy of the fixture whose native size is 512x512 (the tiny UNet takes its time there);
 * server jobs that must wait are queued behind a long job the test submits and cancels itself.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { FIXTURE_DIR, FIXTURE_ID, MODELS_DIR } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const PROMPT = 'fresh croissants on a marble counter, morning light';
const LONG = 150;
/** The fixture with `sample_size` 64: 512x512 images by default. */
const LARGE = 'tiny-sdxl-512';

let modelsDir: string;
let server: RunningServer;
let browser: Browser;
let page: Page;
/** `METHOD /api/generations...` for every job request the server received, in order. */
const calls: string[] = [];

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'ad-studio-cancel-models-'));
  cpSync(MODELS_DIR, modelsDir, { recursive: true });
  cpSync(FIXTURE_DIR, join(modelsDir, LARGE), { recursive: true });
  const unetConfig = join(modelsDir, LARGE, 'unet/config.json');
  writeFileSync(unetConfig, JSON.stringify({ ...JSON.parse(readFileSync(unetConfig, 'utf8')), sample_size: 64 }, null, 2));
  server = await startServer({ modelsDir, previewEvery: 2 }, (app) =>
    app.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/api/generations')) calls.push(`${req.method} ${req.url}`);
    }),
  );
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
});

async function open(target = page): Promise<void> {
  await target.goto(server.url);
  await target.getByTestId('adapter').waitFor();
  await target.getByTestId('model-stored').waitFor();
}

/** Fills the form: the model (the fixture unless named), the prompt, `steps`, the route and the sampler (`''`: the model's default). */
async function fill(options: { steps: number; route: 'device' | 'server'; sampler?: string; model?: string }, target = page): Promise<void> {
  await target.getByTestId('model-select').selectOption(options.model ?? FIXTURE_ID);
  await target.getByTestId(`route-${options.route}`).click();
  await target.getByTestId('prompt').fill(PROMPT);
  await target.getByTestId('sampler').selectOption(options.sampler ?? '');
  await target.getByTestId('steps').fill(String(options.steps));
}

/** Waits until the progress label shows denoising step `min` or later. */
async function waitForStep(min: number, timeout = 240_000): Promise<void> {
  await page.waitForFunction((n) => Number(/^Step (\d+) of/.exec(document.querySelector('[data-testid=progress-label]')?.textContent ?? '')?.[1] ?? -1) >= n, min, { timeout });
}

/** Records every text the progress label shows, from now on (read with `seenLabels`). */
async function watchLabels(): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { seenLabels: string[] }).seenLabels = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid=progress-label]')?.textContent;
      if (text && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}
const seenLabels = () => page.evaluate(() => (window as unknown as { seenLabels: string[] }).seenLabels);
const stepsSeen = (labels: string[]) => labels.flatMap((l) => /^Step (\d+) of/.exec(l)?.[1] ?? []).map(Number);

/** Waits for the Generate button to be usable again. */
async function waitIdle(timeout = 240_000): Promise<void> {
  await page.waitForFunction(() => !document.querySelector<HTMLButtonElement>('[data-testid=generate]')!.disabled, null, { timeout });
}

const historyCount = async () => Number(await page.getByTestId('history-count').textContent());

/** The id of the last job whose event stream the page opened. */
function lastStreamedJob(): string {
  const url = calls.findLast((c) => c.startsWith('GET ') && c.endsWith('/events'));
  return /\/api\/generations\/([^/]+)\/events$/.exec(url ?? '')![1]!;
}

const job = async (id: string) => (await fetch(`${server.url}/api/generations/${id}`)).json() as Promise<{ status: string; error?: { code: string } }>;

/** A long job submitted outside the page, so the page's job waits behind it. */
async function submitBlocker(): Promise<string> {
  const response = await fetch(`${server.url}/api/generations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a long job ahead in the queue', model: LARGE, width: 512, height: 512, num_inference_steps: LONG, seed: 1 }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

/** The server job IndexedDB keeps for re-attaching (raw IndexedDB: database `ad-studio-jobs`, store `pending`). */
const keptJob = () =>
  page.evaluate(
    () =>
      new Promise<string | null>((resolve, reject) => {
        const open = indexedDB.open('ad-studio-jobs');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          if (!db.objectStoreNames.contains('pending')) return resolve(null), db.close();
          const request = db.transaction('pending').objectStore('pending').get('current');
          request.onsuccess = () => (resolve((request.result as { id?: string } | undefined)?.id ?? null), db.close());
          request.onerror = () => reject(request.error);
        };
      }),
  );

async function expectCancelledInPage(): Promise<void> {
  await page.getByTestId('result-cancelled').waitFor({ timeout: 120_000 });
  expect(await page.getByTestId('result-cancelled').textContent()).toBe('The generation was cancelled.');
  await waitIdle(30_000);
  expect(await page.getByTestId('generate').textContent()).toBe('Generate');
  expect(await page.getByTestId('notice-error').count()).toBe(0);
  expect(await page.getByTestId('progress').count()).toBe(0);
}

describe('cancel', () => {
  it('on this device: Cancel stops the worker between steps, nothing goes to the server, and Generate works again', { timeout: 420_000 }, async () => {
    await open();
    // Euler ancestral steps on the host, so every step waits for the GPU (a device-resident Euler loop queues its steps)
    await fill({ steps: LONG, route: 'device', sampler: 'euler_a' });
    const before = server.requests.length;
    const history = await historyCount();
    await watchLabels();
    await page.getByTestId('generate').click();
    await waitForStep(1);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expectCancelledInPage();

    const steps = stepsSeen(await seenLabels());
    expect(Math.max(...steps)).toBeLessThan(LONG);
    expect(await seenLabels()).not.toContain('Decoding the image');
    expect(await historyCount()).toBe(history);
    expect(server.requests.slice(before).filter((url) => url.startsWith('/api/generations'))).toEqual([]);

    // the worker takes the next request: a short one finishes on this device
    await fill({ steps: 2, route: 'device' });
    await page.getByTestId('generate').click();
    await page.getByTestId('result-cancelled').waitFor({ state: 'detached' });
    await waitIdle();
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
    expect(await historyCount()).toBe(history + 1);
    expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
    expect(server.requests.slice(before).filter((url) => url.startsWith('/api/generations'))).toEqual([]);
  });

  it('on the server: Cancel sends DELETE for the running job, which ends cancelled there', { timeout: 300_000 }, async () => {
    await fill({ steps: LONG, route: 'server', model: LARGE });
    await page.getByTestId('generate').click();
    await waitForStep(1);
    const id = lastStreamedJob();
    expect(await keptJob()).toBe(id);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expectCancelledInPage();

    expect(calls).toContain(`DELETE /api/generations/${id}`);
    // it was running (a step had been shown), so the render stopped between steps
    expect(await job(id)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
    expect(await keptJob()).toBeNull();
  });
});

describe('re-attaching after a reload', () => {
  it('a reload while the server job waits re-attaches to it: its progress, then its image in history', { timeout: 300_000 }, async () => {
    const blocker = await submitBlocker();
    await fill({ steps: 2, route: 'server' });
    const history = await historyCount();
    const posts = calls.filter((c) => c === 'POST /api/generations').length;
    await page.getByTestId('generate').click();
    await page.waitForFunction(() => /^Waiting on the server \(1 ahead\)$/.test(document.querySelector('[data-testid=progress-label]')?.textContent ?? ''), null, { timeout: 60_000 });
    const id = lastStreamedJob();
    expect(await keptJob()).toBe(id);

    await page.reload();
    await page.getByTestId('adapter').waitFor();
    await page.waitForFunction(() => /^Waiting on the server \(1 ahead\)$/.test(document.querySelector('[data-testid=progress-label]')?.textContent ?? ''), null, { timeout: 60_000 });
    expect(await page.getByTestId('notice-info').allTextContents()).toContain('The server is still making the image asked for before this page was reloaded.');
    expect(await page.getByTestId('generate').isDisabled()).toBe(true);
    expect(lastStreamedJob()).toBe(id);

    // the job ahead ends; the page's job runs and its image arrives in the reloaded page
    expect((await fetch(`${server.url}/api/generations/${blocker}`, { method: 'DELETE' })).status).toBe(200);
    await waitIdle();
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
    expect(await historyCount()).toBe(history + 1);
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    expect(calls.filter((c) => c === 'POST /api/generations').length).toBe(posts + 1);
    // followed over its event stream before and after the reload, never polled
    expect(calls.filter((c) => c.includes(id))).toEqual([`GET /api/generations/${id}/events`, `GET /api/generations/${id}/events`]);
    expect(await job(id)).toMatchObject({ status: 'succeeded' });
    expect(await keptJob()).toBeNull();
  });

  it('Cancel works for a re-attached job: it is cancelled while queued, and the job ahead keeps running', { timeout: 300_000 }, async () => {
    const blocker = await submitBlocker();
    try {
      await fill({ steps: 2, route: 'server' });
      await page.getByTestId('generate').click();
      await page.waitForFunction(() => /^Waiting on the server/.test(document.querySelector('[data-testid=progress-label]')?.textContent ?? ''), null, { timeout: 60_000 });
      const id = lastStreamedJob();
      await page.reload();
      await page.getByTestId('adapter').waitFor();
      await page.getByRole('button', { name: 'Cancel', exact: true }).click();
      await expectCancelledInPage();
      expect(calls).toContain(`DELETE /api/generations/${id}`);
      expect(await job(id)).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' } });
      expect((await job(blocker)).status).toMatch(/^(queued|running)$/);
      expect(await keptJob()).toBeNull();
    } finally {
      await fetch(`${server.url}/api/generations/${blocker}`, { method: 'DELETE' });
    }
  });
});

describe('server progress', () => {
  it('follows the job over Server-Sent Events: latent previews and the time left show while it runs, and nothing polls', { timeout: 300_000 }, async () => {
    await fill({ steps: LONG, route: 'server', model: LARGE });
    const before = calls.length;
    await page.getByTestId('generate').click();
    const preview = page.getByAltText('preview');
    await preview.waitFor({ timeout: 120_000 });
    expect(await preview.getAttribute('src')).toMatch(/^data:image\/png;base64,/);
    // a PNG the browser decodes, at the latent resolution (the image's / 8), from an even step (a preview every 2)
    const [width, height] = (await page.getByTestId('image-size').textContent())!.split('×').map(Number);
    await page.waitForFunction(() => document.querySelector<HTMLImageElement>('img[alt=preview]')?.complete);
    expect(await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([width! / 8, height! / 8]);
    expect(Number(await preview.getAttribute('data-step')) % 2).toBe(0);
    expect(await page.getByTestId('progress-eta').textContent()).toMatch(/^about \d+ (s|min) left$/);
    await page.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expectCancelledInPage();
    expect(await preview.count()).toBe(0);

    const id = lastStreamedJob();
    expect(calls.slice(before)).toEqual(['POST /api/generations', `GET /api/generations/${id}/events`, `DELETE /api/generations/${id}`]);
  });

  it('without EventSource and IndexedDB in the page, the job is polled and the image still arrives', { timeout: 300_000 }, async () => {
    const other = await browser.context.newPage();
    try {
      await other.addInitScript(() => {
        delete (window as { EventSource?: unknown }).EventSource;
        delete (window as { indexedDB?: unknown }).indexedDB;
      });
      await other.goto(server.url);
      await other.getByTestId('adapter').waitFor();
      expect(await other.evaluate(() => typeof EventSource === 'undefined' && typeof indexedDB === 'undefined')).toBe(true);
      await fill({ steps: 2, route: 'server' }, other);
      const before = calls.length;
      await other.getByTestId('generate').click();
      await other.getByTestId('result-route').waitFor({ timeout: 120_000 });
      expect(await other.getByTestId('result-route').textContent()).toBe('on the server');
      expect(await other.getByTestId('notice-error').allTextContents()).toEqual([]);
      const mine = calls.slice(before);
      expect(mine[0]).toBe('POST /api/generations');
      expect(mine.some((c) => c.endsWith('/events'))).toBe(false);
      expect(mine.filter((c) => /^GET \/api\/generations\/[^/]+$/.test(c)).length).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});
