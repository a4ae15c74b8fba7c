/**
 * End to end in headless Debian Chromium against the real server: model download into IndexedDB,
 * generation on WebGPU (SwiftShader) in the worker, a second visit without model downloads, the
 * server route for the same request, offline use, and the fallback to the server when the device fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { AD_CASES } from '../../src/core/product/index.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { decodeRgba, pixelDifference } from '../helpers/png.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { referencePhoto } from '../helpers/images.ts';

/**
 * Browser (WebGPU, float32 on SwiftShader) and server (onnxruntime-node CPU) images of the same request
 * may differ by float rounding; allowed: at most this many 8-bit levels on any channel of any pixel.
 */
const MAX_PIXEL_DIFFERENCE = 3;
/** Denoising steps of the browser runs. */
const STEPS = 8;

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
let server: RunningServer;
let browser: Browser;
let page: Page;
const images: Record<string, Uint8Array> = {};

/** Requests for model files (by content hash); the manifest is asked for on every online visit, by design. */
const modelRequests = () => server.requests.filter((url) => url.startsWith('/models/files/'));

async function open(): Promise<void> {
  await page.goto(server.url);
  await page.getByTestId('adapter').waitFor();
  await page.getByTestId('model-stored').waitFor();
}

/** Clicks Generate and waits for the button to come back; returns the shown PNG. */
async function generateAndRead(timeout = 240_000): Promise<Uint8Array> {
  const before = await page.getByTestId('history-count').textContent();
  await page.getByTestId('generate').click();
  await page.waitForFunction((count) => document.querySelector('[data-testid=history-count]')?.textContent !== count || document.querySelector('[data-testid=notice-error]'), before, { timeout });
  const error = await page.getByTestId('notice-error').allTextContents();
  expect(error).toEqual([]);
  const bytes = await page.evaluate(async () => {
    const link = document.querySelector<HTMLAnchorElement>('[data-testid=download-png]')!;
    return Array.from(new Uint8Array(await (await fetch(link.href)).arrayBuffer()));
  });
  return Uint8Array.from(bytes);
}

/** Records every text the progress bar shows (it is visible only while working). */
async function watchDownloadProgress(): Promise<void> {
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { downloadTexts: string[] }).downloadTexts = seen;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid=progress-label]')?.textContent;
      if (text && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser();
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('Ad Studio in Chromium', () => {
  it('first visit: downloads the model with progress and generates the bakery case on WebGPU in the worker', { timeout: 300_000 }, async () => {
    await open();
    expect(await page.getByTestId('adapter').textContent()).toMatch(/swiftshader/i);
    expect(await page.getByTestId('model-stored').textContent()).toMatch(/not on this device yet/);
    await page.getByTestId('example').selectOption(bakery.id);
    expect(await page.getByTestId('route-reason').textContent()).toMatch(/^This device: .*swiftshader runs the fp32 model at 72x56$/);
    expect(await page.getByTestId('prompt').inputValue()).toBe(bakery.prompt);
    expect(await page.getByTestId('steps').inputValue()).toBe(String(bakery.num_inference_steps));
    // SwiftShader runs WebGPU on the CPU: 8 of the case's 40 steps keep the test short
    await page.getByTestId('steps').fill(String(STEPS));
    // the photo style brings DPM++ 2M Karras; SDXL's own default (Euler) is the one that keeps latents on the GPU
    await page.getByTestId('sampler').selectOption('');
    await watchDownloadProgress();

    images.first = await generateAndRead();
    expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
    expect(await page.getByTestId('result-provider').textContent()).toBe('webgpu');
    // SDXL's default sampler (Euler) keeps the latents and constant feeds on the GPU between steps
    expect(await page.getByTestId('result-provider').getAttribute('data-denoised-on')).toBe('device');
    const progress = await page.evaluate(() => (window as unknown as { downloadTexts: string[] }).downloadTexts);
    const downloads = progress.filter((t) => t.startsWith('Downloading the fp32 model'));
    expect(downloads.length).toBeGreaterThan(0);
    expect(downloads.at(-1)).toMatch(/^Downloading the fp32 model: 5\.\d of 5\.\d MB \(100%\)$/);
    expect(progress).toContain(`Step ${STEPS} of ${STEPS}`);
    expect(await page.getByTestId('model-stored').textContent()).toMatch(/on this device \(5\.\d MB\)/);
    expect(decodeRgba(images.first)).toMatchObject({ width: 72, height: 56 });
    expect(modelRequests().length).toBeGreaterThan(10);
  });

  it('after a reload: history and form survive, and the same request runs again with no model file requests', { timeout: 300_000 }, async () => {
    const requestsBefore = modelRequests().length;
    await open();
    expect(await page.getByTestId('history-count').textContent()).toBe('1');
    expect(await page.getByTestId('prompt').inputValue()).toBe(bakery.prompt);
    expect(await page.getByTestId('steps').inputValue()).toBe(String(STEPS));
    expect(await page.getByTestId('model-stored').textContent()).toMatch(/on this device/);

    images.second = await generateAndRead();
    expect(await page.getByTestId('result-provider').textContent()).toBe('webgpu');
    expect(modelRequests().length - requestsBefore).toBe(0);
    expect(Buffer.from(images.second).equals(Buffer.from(images.first!))).toBe(true);
  });

  it('forced server route: the same request comes back from the server within the stated tolerance', async () => {
    await page.getByTestId('route-server').click();
    expect(await page.getByTestId('route-reason').textContent()).toBe('Server chosen in settings');
    images.server = await generateAndRead();
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    expect(await page.getByTestId('result-provider').textContent()).toBe('cpu');
    const device = decodeRgba(images.first!);
    const remote = decodeRgba(images.server);
    const diff = pixelDifference(device.data, remote.data);
    console.log(`browser (webgpu) vs server (cpu), ${bakery.id} case: max ${diff.max} levels, mean ${diff.mean.toFixed(4)} levels`);
    expect(diff.max).toBeLessThanOrEqual(MAX_PIXEL_DIFFERENCE);
    await page.getByTestId('route-auto').click();
  });

  it('keeps what the user typed: a bad value is named in the form and nothing is cleared', async () => {
    await page.getByTestId('prompt').fill('flower shop storefront full of colorful bouquets');
    await page.getByTestId('steps').fill('0');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.locator('.issue').allTextContents()).toEqual(['Steps must be at least 1.']);
    await page.reload();
    await page.getByTestId('adapter').waitFor();
    expect(await page.getByTestId('prompt').inputValue()).toBe('flower shop storefront full of colorful bouquets');
    expect(await page.getByTestId('steps').inputValue()).toBe('0');
    await page.getByTestId('steps').fill('4');
  });

  it('image-to-image: a reference photo gives the same picture on this device and on the server', { timeout: 240_000 }, async () => {
    const photo = referencePhoto(160, 120);
    await page.getByTestId('photo-input').setInputFiles({ name: 'shop.png', mimeType: 'image/png', buffer: Buffer.from(photo.split(',')[1]!, 'base64') });
    await page.getByTestId('photo-preview').waitFor();
    await page.getByTestId('strength').fill('0.5');
    await page.getByTestId('steps').fill('8');
    await page.getByTestId('sampler').selectOption('dpmpp_2m_karras');
    const device = await generateAndRead();
    expect(await page.getByTestId('result-provider').textContent()).toBe('webgpu');
    // DPM++ 2M keeps its history on the host: the loop steps there
    expect(await page.getByTestId('result-provider').getAttribute('data-denoised-on')).toBe('host');
    await page.getByTestId('route-server').click();
    const remote = await generateAndRead();
    expect(await page.getByTestId('result-route').textContent()).toBe('on the server');
    const diff = pixelDifference(decodeRgba(device).data, decodeRgba(remote).data);
    console.log(`browser (webgpu) vs server (cpu), image-to-image DPM++ 2M Karras: max ${diff.max} levels, mean ${diff.mean.toFixed(4)} levels`);
    expect(diff.max).toBeLessThanOrEqual(MAX_PIXEL_DIFFERENCE);
    expect(Buffer.from(device).equals(Buffer.from(images.first!))).toBe(false);
    await page.getByTestId('route-auto').click();
    await page.getByTestId('photo-remove').click();
    await page.getByTestId('sampler').selectOption('');
  });

  it('offline: the app reloads from its service worker and generates on this device', { timeout: 180_000 }, async () => {
    await page.evaluate(() => navigator.serviceWorker.ready);
    await browser.context.setOffline(true);
    try {
      await page.reload();
      await page.getByTestId('adapter').waitFor();
      await page.getByTestId('model-stored').waitFor();
      await page.getByTestId('steps').fill('4');
      const png = await generateAndRead();
      expect(await page.getByTestId('result-route').textContent()).toBe('on this device');
      expect(decodeRgba(png).width).toBe(72);
    } finally {
      await browser.context.setOffline(false);
    }
  });
});

describe('storage', () => {
  it('removing the model frees IndexedDB; the next generation downloads it again', { timeout: 180_000 }, async () => {
    await page.getByTestId('remove-model').click();
    await expect.poll(() => page.getByTestId('model-stored').textContent()).toMatch(/not on this device yet/);
    const before = modelRequests().length;
    await generateAndRead();
    expect(modelRequests().length - before).toBeGreaterThan(10);
    expect(await page.getByTestId('model-stored').textContent()).toMatch(/on this device/);
  });
});

describe('fallback to the server', () => {
  it('when the device cannot get the model, the same request is generated on the server and the user is told', async () => {
    const fresh = await launchBrowser();
    try {
      const other = fresh.page;
      // the network drops every model weight download on this device
      await other.route('**/models/files/**', (route) => route.abort('connectionreset'));
      await other.goto(server.url);
      await other.getByTestId('adapter').waitFor();
      await other.getByTestId('prompt').fill(AD_CASES[3]!.prompt_ko);
      await other.getByTestId('steps').fill('4');
      await other.getByTestId('generate').click();
      await other.getByTestId('result-fallback').waitFor({ timeout: 120_000 });
      expect(await other.getByTestId('result-route').textContent()).toBe('on the server');
      expect(await other.getByTestId('notice-warn').textContent()).toMatch(/^This device could not finish the image: the model could not be downloaded \(model_download: .*\)\. Generating the same request on the server instead\.$/);
      expect(await other.getByTestId('prompt').inputValue()).toBe(AD_CASES[3]!.prompt_ko);
    } finally {
      await fresh.close();
    }
  });
});
