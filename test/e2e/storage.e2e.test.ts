/**
 * Model storage and variant choice in headless Debian Chromium against the real server: the tiny package
 * registered with its q4f16, q4f32 and q8 variants (`npm run models -- add`) and manifest chunks of 64 KiB, so
 * every weight file is stored as many chunks. Covers the multi-chunk storage path (stored bytes against the
 * originals), a chunk corrupted in transit and one damaged at rest (each re-fetched alone), a download cut off
 * and resumed with Range after a reload, the storage quota running out mid-download, a private window with a
 * tiny quota, a package marked full-size on a software adapter, and WASM without an adapter.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../src/core/loading/manifest.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { addModel } from '../../server/src/models/install.ts';
import { damageStoredChunk, launchBrowser, overrideQuota, storedFileInPage, type Browser } from '../helpers/browser.ts';
import { FIXTURE_DIR, FIXTURE_ID } from '../helpers/fixture.ts';
import { decodeRgba } from '../helpers/png.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { MIN_PSNR, psnr } from '../helpers/variants.ts';

const CHUNK = 64 * 1024;
const STEPS = 3;
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
let modelsDir: string;
let server: RunningServer;
let manifest: ModelManifest;
/** The next full download of this file is cut off after `after` bytes (a dropped connection). */
let cut: { sha256: string; after: number } | undefined;
const browsers: Browser[] = [];

const fileOf = (path: string) => manifest.files.find((f) => f.path === path)!;
const unetData = () => fileOf('variants/q4f32/unet/model.onnx_data');
const servedFor = (sha256: string) => server.served.filter((r) => r.url === `/models/files/${sha256}`);
const fileRequests = () => server.requests.filter((u) => u.startsWith('/models/files/'));

/** Cuts the response for `cut.sha256` after `cut.after` bytes and drops the connection. */
function cutOnce(app: RunningServer['app']): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!cut || req.url !== `/models/files/${cut.sha256}` || req.headers.range) return payload;
    const limit = cut.after;
    cut = undefined;
    const source = payload as Readable;
    const out = new PassThrough();
    let sent = 0;
    source.on('data', (chunk: Buffer) => {
      const take = Math.max(0, Math.min(chunk.length, limit - sent));
      if (take) out.write(chunk.subarray(0, take));
      sent += take;
      if (sent >= limit) {
        source.destroy();
        setTimeout(() => reply.raw.destroy(), 200);
      }
    });
    return out;
  });
}

/**
 * A fresh browser for a test; the earlier tests' browsers are closed first (on 2 cores, an idle Chromium with a
 * worker holding sessions slows the next test's WASM run many times over).
 */
async function browser(options: Parameters<typeof launchBrowser>[0] = {}): Promise<Page> {
  for (const old of browsers.splice(0)) await old.close().catch(() => undefined);
  const b = await launchBrowser(options);
  browsers.push(b);
  return b.page;
}

async function open(page: Page, url = server.url): Promise<void> {
  await page.goto(url);
  await page.getByTestId('adapter').waitFor();
  await page.getByTestId('model-stored').waitFor();
}

/** The bakery case at the fixture's scale, `STEPS` steps. */
async function fillBakery(page: Page): Promise<void> {
  await page.getByTestId('example').selectOption(bakery.id);
  await page.getByTestId('steps').fill(String(STEPS));
  // the photo style brings DPM++ 2M Karras; SDXL's own default (Euler) is the one that keeps latents on the GPU
  await page.getByTestId('sampler').selectOption('');
}

/** Clicks Generate, waits until the app is done (an image, or an error), returns the PNG shown. */
async function generate(page: Page): Promise<Uint8Array> {
  await page.getByTestId('generate').click();
  await expect.poll(() => page.getByTestId('generate').isDisabled()).toBe(true);
  await expect.poll(() => page.getByTestId('generate').isDisabled(), { timeout: 240_000, interval: 250 }).toBe(false);
  expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
  const bytes = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch(document.querySelector<HTMLAnchorElement>('[data-testid=download-png]')!.href)).arrayBuffer())));
  return Uint8Array.from(bytes);
}

beforeAll(async () => {
  modelsDir = mkdtempSync(join(tmpdir(), 'ad-studio-e2e-models-'));
  manifest = await addModel(FIXTURE_DIR, { modelsDir, id: FIXTURE_ID, variants: ['q4f16', 'q4f32', 'q8'], chunkBytes: CHUNK });
  server = await startServer({ modelsDir, modelChunkBytes: CHUNK }, cutOnce);
});

afterAll(async () => {
  for (const b of browsers) await b.close().catch(() => undefined);
  await server?.close();
  rmSync(modelsDir, { recursive: true, force: true });
});

describe('variants and chunked storage', () => {
  let page: Page;
  let device: Uint8Array;

  it('without shader-f16, Auto runs the q4f32 variant; every stored file, chunk by chunk, equals the original', { timeout: 300_000 }, async () => {
    page = await browser();
    await open(page);
    await fillBakery(page);
    expect(await page.getByTestId('route-reason').textContent()).toMatch(/^This device: .*swiftshader runs the q4f32 model at 72x56$/);
    device = await generate(page);
    expect(await page.getByTestId('result-variant').textContent()).toBe('q4f32');
    expect(await page.getByTestId('result-provider').textContent()).toBe('webgpu');
    expect(await page.getByTestId('result-provider').getAttribute('data-denoised-on')).toBe('device');
    const q4f32 = manifest.variants.find((v) => v.name === 'q4f32')!;
    const distinct = [...new Set(q4f32.files.map((p) => fileOf(p).sha256))];
    for (const sha256 of distinct) {
      const file = manifest.files.find((f) => f.sha256 === sha256)!;
      const stored = await storedFileInPage(page, sha256);
      expect(stored, file.path).toMatchObject({ complete: true, sha256, chunks: Math.max(1, Math.ceil(file.size / CHUNK)) });
    }
    expect(Math.ceil(unetData().size / CHUNK)).toBeGreaterThan(10);
    // the variants' shared files (identical tokenizers) downloaded once: one request per distinct file
    expect(new Set(fileRequests()).size).toBe(fileRequests().length);
    expect(fileRequests().length).toBe(distinct.length);
  });

  it('the q4f32 image is within its stated PSNR of the server (fp32 export, same request)', { timeout: 120_000 }, async () => {
    await page.getByTestId('route-server').click();
    const remote = await generate(page);
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    const value = psnr(decodeRgba(device).data, decodeRgba(remote).data);
    console.log(`browser q4f32 (webgpu) against server fp32: PSNR ${value.toFixed(2)} dB`);
    expect(value).toBeGreaterThanOrEqual(MIN_PSNR.q4f32);
    await page.getByTestId('route-auto').click();
  });
});

describe('verification and repair', () => {
  it('a chunk corrupted on the way is fetched again alone, with a Range request', { timeout: 120_000 }, async () => {
    const page = await browser();
    const file = unetData();
    const bad = 5;
    const before = servedFor(file.sha256).length;
    await page.route(`**/models/files/${file.sha256}`, async (route) => {
      if (route.request().headers()['range']) return route.continue();
      const response = await route.fetch();
      const body = await response.body();
      body[bad * CHUNK + 100]! ^= 0xff;
      await route.fulfill({ response, body });
    });
    await open(page);
    await page.getByTestId('download-model').click();
    await expect.poll(() => page.getByTestId('model-stored').textContent(), { timeout: 60_000 }).toMatch(/^q4f32 on this device/);
    expect(servedFor(file.sha256).slice(before).map((r) => [r.status, r.range, r.bytes])).toEqual([
      [200, undefined, file.size],
      [206, `bytes=${bad * CHUNK}-${(bad + 1) * CHUNK - 1}`, CHUNK],
    ]);
    expect(await storedFileInPage(page, file.sha256)).toMatchObject({ complete: true, sha256: file.sha256 });

    // damage at rest: "Check files" finds it and fetches only that chunk
    await damageStoredChunk(page, file.sha256, 11);
    await page.getByTestId('check-model').click();
    await expect.poll(() => page.getByTestId('notice-info').allTextContents()).toContain('1 damaged piece was downloaded again; the q4f32 model is intact now.');
    expect(servedFor(file.sha256).at(-1)).toMatchObject({ status: 206, range: `bytes=${11 * CHUNK}-${12 * CHUNK - 1}`, bytes: CHUNK });
    expect(servedFor(file.sha256).slice(before)).toHaveLength(3);
    expect(await storedFileInPage(page, file.sha256)).toMatchObject({ complete: true, sha256: file.sha256 });
  });

  it('a download cut off resumes after a reload with a Range request from the last verified chunk', { timeout: 120_000 }, async () => {
    const page = await browser();
    const file = unetData();
    const before = servedFor(file.sha256).length;
    cut = { sha256: file.sha256, after: Math.floor(file.size * 0.4) };
    // after the cut, the network stays down for this file: the download gives up and keeps what it verified
    let first = true;
    await page.route(`**/models/files/${file.sha256}`, (route) => {
      if (first) {
        first = false;
        return route.continue();
      }
      return route.abort('connectionreset');
    });
    await open(page);
    await page.getByTestId('download-model').click();
    await page.getByTestId('notice-error').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('notice-error').textContent()).toMatch(/The model could not be downloaded: the model could not be downloaded \(model_download: /);
    const partial = (await storedFileInPage(page, file.sha256))!;
    expect(partial.complete).toBe(false);
    expect(partial.verified).toBeGreaterThan(0);
    expect(partial.verified).toBeLessThan(partial.chunks);

    await page.unroute(`**/models/files/${file.sha256}`);
    await open(page); // a reload: the next visit
    await page.getByTestId('download-model').click();
    await expect.poll(() => page.getByTestId('model-stored').textContent(), { timeout: 60_000 }).toMatch(/^q4f32 on this device/);
    const requests = servedFor(file.sha256).slice(before);
    expect(requests.at(-1)).toMatchObject({ status: 206, range: `bytes=${partial.verified * CHUNK}-`, bytes: file.size - partial.verified * CHUNK });
    expect(await storedFileInPage(page, file.sha256)).toMatchObject({ complete: true, sha256: file.sha256 });
  });
});

describe('updates', () => {
  it('a changed package on the server replaces the stored manifest; only the changed file downloads', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ad-studio-e2e-update-'));
    await addModel(FIXTURE_DIR, { modelsDir: dir, id: FIXTURE_ID, variants: ['q4f32'], chunkBytes: CHUNK });
    const updating = await startServer({ modelsDir: dir, modelChunkBytes: CHUNK });
    try {
      const page = await browser();
      await open(page, updating.url);
      await fillBakery(page);
      await generate(page);
      expect(await page.getByTestId('result-variant').textContent()).toBe('q4f32');
      const files = () => updating.requests.filter((u) => u.startsWith('/models/files/'));
      const downloaded = files().length;

      // the operator edits one file of the variant (a new scheduler default)
      const path = join(dir, FIXTURE_ID, 'variants/q4f32/scheduler/scheduler_config.json');
      const config = JSON.parse(readFileSync(path, 'utf8'));
      rmSync(path);
      writeFileSync(path, JSON.stringify({ ...config, timestep_spacing: 'trailing' }, null, 2));
      const fresh = await updating.services.models.manifest(FIXTURE_ID);
      const changed = fresh.files.find((f) => f.path === 'variants/q4f32/scheduler/scheduler_config.json')!;

      await open(page, updating.url);
      expect(await page.getByTestId('model-stored').textContent()).toMatch(/^q4f32 not on this device yet \(0\.0 MB to download\)$/);
      await generate(page);
      expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
      expect(files().slice(downloaded)).toEqual([`/models/files/${changed.sha256}`]);
      expect(await page.getByTestId('model-stored').textContent()).toMatch(/^q4f32 on this device/);
    } finally {
      await updating.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('storage limits', () => {
  it('when the quota runs out while a full-size model downloads: a clear message, the server makes the image, nothing half-written counts', { timeout: 180_000 }, async () => {
    const realSize = await startServer({ modelsDir, modelChunkBytes: CHUNK, realSizeModels: [FIXTURE_ID] });
    try {
      const page = await browser();
      const file = unetData();
      // room for a part of the 1.9 MB package
      await overrideQuota(page, new URL(realSize.url).origin, 1_200_000);
      await open(page, realSize.url);
      await fillBakery(page);
      await page.getByTestId('route-device').click();
      await generate(page);
      expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
      expect(await page.getByTestId('notice-warn').allTextContents()).toContainEqual(
        expect.stringMatching(/^This device could not finish the image: its storage for this site is full \(storage_full: .*\)\. Generating the same request on the server instead\.$/),
      );
      expect((await storedFileInPage(page, file.sha256))?.complete ?? false).toBe(false);
      expect(await page.getByTestId('model-stored').textContent()).toMatch(/^q4f32 not on this device yet/);
    } finally {
      await realSize.close();
    }
  });

  it('a private window with a tiny quota still generates on this device, without a cache, and says so', { timeout: 300_000 }, async () => {
    const page = await browser({ incognito: true });
    await overrideQuota(page, new URL(server.url).origin, 100 * 1024);
    await open(page);
    await fillBakery(page);
    const requestsBefore = fileRequests().length;
    await generate(page);
    expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
    expect(await page.getByTestId('notice-info').allTextContents()).toContain('This browser window cannot keep the model (a private window, or no room left): it is held in memory for this visit and downloaded again on the next.');
    expect(fileRequests().length - requestsBefore).toBeGreaterThan(10);
    expect(await storedFileInPage(page, unetData().sha256)).toBeUndefined();
  });
});

describe('devices that should not run a full-size model', () => {
  it('Auto never picks a software adapter for a package marked full-size; "This device" still can', { timeout: 300_000 }, async () => {
    const realSize = await startServer({ modelsDir, modelChunkBytes: CHUNK, realSizeModels: [FIXTURE_ID] });
    try {
      const page = await browser();
      await open(page, realSize.url);
      await fillBakery(page);
      const reason = await page.getByTestId('route-reason').textContent();
      expect(reason).toMatch(/^Server: google swiftshader is a software renderer on the CPU, where a full-size model takes hours per image/);
      await generate(page);
      expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
      expect(await page.getByTestId('background-download').count()).toBe(0);
      await page.getByTestId('route-device').click();
      expect(await page.getByTestId('route-reason').textContent()).toMatch(/^This device chosen in settings: the q4f32 model on google swiftshader/);
      await generate(page);
      expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
    } finally {
      await realSize.close();
    }
  });

  it('without a WebGPU adapter, Auto uses the server and "This device" runs q4f32 on WASM within its PSNR', { timeout: 240_000 }, async () => {
    const page = await browser({ webgpu: false });
    await open(page);
    await fillBakery(page);
    expect(await page.getByTestId('route-reason').textContent()).toMatch(/^Server: no WebGPU adapter/);
    const remote = await generate(page);
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    await page.getByTestId('route-device').click();
    const local = await generate(page);
    expect(await page.getByTestId('result-provider').textContent()).toBe('wasm');
    expect(await page.getByTestId('result-provider').getAttribute('data-denoised-on')).toBe('host');
    expect(await page.getByTestId('result-variant').textContent()).toBe('q4f32');
    const value = psnr(decodeRgba(local).data, decodeRgba(remote).data);
    console.log(`browser q4f32 (wasm) against server fp32: PSNR ${value.toFixed(2)} dB`);
    expect(value).toBeGreaterThanOrEqual(MIN_PSNR.q4f32);
  });
});
