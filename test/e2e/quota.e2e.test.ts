/**
 * The billing gate in headless Debian Chromium against the real server (DAILY_QUOTA=1): the page shows the
 * server renders left before sending, the count drops after a server render, and the next server render fails
 * at once with a message naming the reset time, never retried (also when a device failure falls back to the
 * server). CORS from a page of another origin: an allowed origin's fetch and EventSource read the API (its
 * `cross-origin-resource-policy: same-origin` blocks no-cors loads only), a server without CORS_ORIGINS
 * refuses them.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utcDay } from '../../server/src/access/quotaStore.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer({ dailyQuota: 1 });
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Statuses of the POST /api/generations requests the server answered, in order. */
const submissions = () => server.served.filter((r) => r.url === '/api/generations' && r.status !== 200).map((r) => r.status);
const quotaText = () => page.getByTestId('server-quota').textContent();

/** Clicks Generate and waits until the run ends: a new image in history or an error shown, and the button back. */
async function generate(): Promise<void> {
  const before = await page.getByTestId('history-count').textContent();
  await page.getByTestId('generate').click();
  await page.waitForFunction(
    (count) => {
      const ended = document.querySelector('[data-testid=history-count]')?.textContent !== count || document.querySelector('[data-testid=notice-error]');
      return ended && !document.querySelector<HTMLButtonElement>('[data-testid=generate]')?.disabled;
    },
    before,
    { timeout: 120_000 },
  );
}

describe('daily quota of server renders in the page', () => {
  it('shows the renders left before sending, counts a server render, and fails the next one at once naming the reset time', { timeout: 240_000 }, async () => {
    await page.goto(server.url);
    await page.getByTestId('adapter').waitFor();
    await page.getByTestId('route-server').click();
    expect(await page.getByTestId('route-reason').textContent()).toBe('Server chosen in settings');
    await page.getByTestId('prompt').fill('fresh croissants on a marble counter, morning light');
    await page.getByTestId('steps').fill('2');
    await expect.poll(quotaText).toBe('server renders left today: 1');
    expect(submissions()).toEqual([]);

    await generate();
    expect(await page.getByTestId('notice-error').count()).toBe(0);
    expect(await page.getByTestId('history-count').textContent()).toBe('1');
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    await expect.poll(quotaText).toBe('server renders left today: 0');
    expect(await page.getByTestId('server-quota-reset').textContent()).toMatch(/^\(more at .+; images on this device are not counted\)$/);
    expect(submissions()).toEqual([202]);

    await generate();
    const { resetsAt } = utcDay(Date.now());
    expect(await page.getByTestId('notice-error').textContent()).toBe(
      `No image: Today's server renders are used up. Generate on this device, or try again tomorrow. (quota_exceeded: the daily quota of 1 server render for this client (by IP address) is used up; it resets at ${resetsAt} (midnight UTC))`,
    );
    expect(await page.getByTestId('history-count').textContent()).toBe('1');
    // one refused POST, not retried; nothing queued
    expect(submissions()).toEqual([202, 429]);
    expect(server.services.jobs.list({ limit: 10 }).jobs).toHaveLength(1);
    expect(await quotaText()).toBe('server renders left today: 0');
  });

  it('a device failure falls back to the server, whose quota_exceeded is shown and not retried', { timeout: 240_000 }, async () => {
    // the network drops every model weight download: the device fails, the router sends the request to the server
    await page.route('**/models/files/**', (route) => route.abort('connectionreset'));
    try {
      await page.getByTestId('route-auto').click();
      await expect.poll(() => page.getByTestId('route-reason').textContent()).toMatch(/^This device/);
      await generate();
      expect(await page.getByTestId('notice-warn').textContent()).toMatch(/^This device could not finish the image: the model could not be downloaded .*Generating the same request on the server instead\.$/);
      expect(await page.getByTestId('notice-error').textContent()).toMatch(/^No image: Today's server renders are used up\. .*\(quota_exceeded: the daily quota of 1 server render for this client \(by IP address\) is used up; it resets at /);
      expect(submissions()).toEqual([202, 429, 429]);
      expect(server.services.jobs.list({ limit: 10 }).jobs).toHaveLength(1);
    } finally {
      await page.unroute('**/models/files/**');
    }
  });
});

describe('CORS in the browser', () => {
  it("a page of an allowed origin reads another origin's API, progress stream and images (its same-origin CORP blocks only no-cors loads); without CORS_ORIGINS it cannot", { timeout: 120_000 }, async () => {
    const api = await startServer({ corsOrigins: [server.url], dailyQuota: 5 });
    try {
      await page.goto(server.url);
      const allowed = await page.evaluate(async (url) => {
        const response = await fetch(`${url}/api/quota`);
        return { status: response.status, body: await response.json() };
      }, api.url);
      expect(allowed).toMatchObject({ status: 200, body: { limit: 5, used: 0, remaining: 5 } });
      // the response carried CORP same-origin (a CORS fetch does not expose it to the page: read it here)
      expect((await fetch(`${api.url}/api/quota`, { headers: { origin: server.url } })).headers.get('cross-origin-resource-policy')).toBe('same-origin');
      // a no-cors load of the same URL (as an <img> or <script> would make) is blocked by that CORP
      const noCors = await page.evaluate(async (url) => fetch(`${url}/api/quota`, { mode: 'no-cors' }).then((r) => r.type, (e: Error) => e.name), api.url);
      expect(noCors).toBe('TypeError');
      // a refusal's body is readable cross-origin too
      const refused = await page.evaluate(async (url) => {
        const response = await fetch(`${url}/api/quota`, { headers: { 'x-api-key': 'not-a-key' } });
        return { status: response.status, body: await response.json() };
      }, api.url);
      expect(refused).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
      // the progress stream of a job on `api` through EventSource, and its image by fetch
      const job = await (await fetch(`${api.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'a flower shop window', width: 64, height: 64, seed: 5, num_inference_steps: 2 }) })).json();
      const streamed = await page.evaluate(
        ([url, id]) =>
          new Promise<{ status: string; image: number }>((resolve, reject) => {
            const source = new EventSource(`${url}/api/generations/${id}/events`);
            source.addEventListener('done', (event) => {
              source.close();
              const view = JSON.parse((event as MessageEvent<string>).data);
              fetch(`${url}${view.image_url}`).then(async (r) => resolve({ status: view.status, image: (await r.arrayBuffer()).byteLength }), reject);
            });
            source.addEventListener('error', () => {
              if (source.readyState === EventSource.CLOSED) reject(new Error('the stream was refused'));
            });
          }),
        [api.url, job.id] as const,
      );
      expect(streamed.status).toBe('succeeded');
      expect(streamed.image).toBeGreaterThan(0);
      // the other way round: `server` has no CORS_ORIGINS, so a page of `api`'s origin cannot read it
      await page.goto(api.url);
      const denied = await page.evaluate(async (url) => fetch(`${url}/api/quota`).then(() => 'read', (e: Error) => e.name), server.url);
      expect(denied).toBe('TypeError');
    } finally {
      await api.close();
    }
  });
});
