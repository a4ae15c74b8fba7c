/**
 * The optional translation model on the device, in headless Debian Chromium against the real server: with a
 * Marian package (the tiny random-weight opus-mt-ko-en stand-in) registered on the server, a Korean description
 * made on this device is translated by that model in the worker (its files downloaded by content hash, like a
 * checkpoint's), and "how it was made" says so; nothing goes to the server's generation API. Generate is tapped as
 * soon as the page is up, without waiting for the model's details.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_CASES, DEFAULTS, sizeForAspectRatio } from '../../src/core/product/index.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { modelsWithTranslation } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
let models: ReturnType<typeof modelsWithTranslation>;
let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  models = modelsWithTranslation();
  server = await startServer({ modelsDir: models.modelsDir, styleModels: models.styleModels });
  browser = await launchBrowser({ locale: 'ko-KR' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  models?.remove();
});

describe('a registered translation model on the device', () => {
  it('translates the Korean description in the worker, and "how it was made" names the model', { timeout: 300_000 }, async () => {
    await page.goto(server.url);
    await page.getByTestId('adapter').waitFor();
    const manifest = await (await fetch(`${server.url}/models/opus-mt-ko-en/manifest.json`)).json();
    await page.getByTestId('industry-bakery').click();
    await page.getByTestId('prompt').fill(bakery.prompt_ko);
    // the preview is the glossary's; the page says the model translates when the ad is made
    await expect.poll(() => page.getByTestId('model-translates').textContent()).toBe('광고를 만들 때는 opus-mt-ko-en 모델이 한국어를 옮겨요. 이 미리보기는 내장 용어집으로 만들었어요.');
    await page.getByTestId('steps').fill('2');
    await page.getByTestId('route-device').click();
    const history = Number(await page.getByTestId('history-count').textContent());
    await page.getByTestId('generate').click();
    // the image arrives, or an error says why not
    await page.waitForFunction((count) => document.querySelector('[data-testid=history-count]')?.textContent !== count || document.querySelector('[data-testid=notice-error]'), String(history), { timeout: 240_000 });
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
    expect(Number(await page.getByTestId('history-count').textContent())).toBe(history + 1);
    expect(await page.getByTestId('result-route').textContent()).toBe('이 기기');
    // tapped right after the page came up: the image still has the model's own size, not 1024 px (its details were
    // loaded first)
    const { nativeSide } = await (await fetch(`${server.url}/models/tiny-sdxl/manifest.json`)).json();
    const size = await page.getByTestId('result-image').evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    const expected = sizeForAspectRatio(DEFAULTS.aspect_ratio, nativeSide);
    expect(size).toEqual([expected.width, expected.height]);
    await page.getByTestId('how-it-was-made').click();
    expect(await page.getByTestId('node-prompt').getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByTestId('translated-by').getAttribute('data-by')).toBe('opus-mt-ko-en');
    expect(await page.getByTestId('translated-by').textContent()).toBe('한국어는 opus-mt-ko-en 모델로 옮겼어요');
    // the model's files came by content hash, each once; the server made nothing
    for (const file of manifest.files as { path: string; sha256: string }[]) {
      expect(server.requests.filter((url) => url === `/models/files/${file.sha256}`).length, file.path).toBe(1);
    }
    expect(server.requests.filter((url) => url.startsWith('/api/generations'))).toEqual([]);
  });
});
