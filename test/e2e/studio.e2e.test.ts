/**
 * The ad studio as a Korean shop owner meets it, in headless Debian Chromium on a 390x844 phone screen with
 * Korean as the browser's language, against the real server: the interface is Korean, the form is the simple
 * one, the Korean description becomes an English prompt on the device (unknown words listed), progress with
 * Cancel stays in view after tapping 만들기, the ad copy is laid over the image and re-laid when edited
 * without generating again, and the ad exports as a 1080x1350 JPEG named after the shop.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_CASES } from '../../src/core/product/index.ts';
import { launchBrowser, type Browser } from '../helpers/browser.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const PHONE = { width: 390, height: 844 };
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;

let server: RunningServer;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  server = await startServer();
  browser = await launchBrowser({ locale: 'ko-KR', viewport: PHONE, simple: true });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const lang = () => page.evaluate(() => document.documentElement.lang);
const pageWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
/** The bytes of the image the result shows (its blob: URL read in the page). */
const resultBytes = () =>
  page.evaluate(async () => Array.from(new Uint8Array(await (await fetch(document.querySelector<HTMLImageElement>('[data-testid=result-image]')!.src)).arrayBuffer())));
const generations = () => server.requests.filter((url) => url.startsWith('/api/generations')).length;

/** Width and height of a baseline or progressive JPEG, from its SOF marker. */
function jpegSize(bytes: Uint8Array): { width: number; height: number } {
  for (let i = 2; i < bytes.length; ) {
    const marker = bytes[i + 1]!;
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (marker >= 0xc0 && marker <= 0xc2) return { height: (bytes[i + 5]! << 8) | bytes[i + 6]!, width: (bytes[i + 7]! << 8) | bytes[i + 8]! };
    i += 2 + length;
  }
  throw new Error('no SOF marker');
}

describe('the studio in Korean on a phone', () => {
  it('speaks Korean when the browser does, fits a 390 px screen, and keeps a language switch', async () => {
    await page.goto(server.url);
    await page.getByTestId('adapter').waitFor();
    expect(await lang()).toBe('ko');
    expect(await page.getByTestId('generate').textContent()).toBe('만들기');
    expect(await page.locator('h1').textContent()).toBe('애드 스튜디오');
    // simple mode first: Advanced is closed, its fields out of sight
    expect(await page.getByTestId('steps').isVisible()).toBe(false);
    expect(await page.getByTestId('style-anime').isVisible()).toBe(true);
    expect(await page.getByTestId('aspect-9:16').textContent()).toBe('스토리·릴스 9:16');
    expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);

    await page.getByTestId('lang-en').click();
    expect(await lang()).toBe('en');
    expect(await page.getByTestId('generate').textContent()).toBe('Generate');
    await page.reload();
    await page.getByTestId('adapter').waitFor();
    expect(await lang()).toBe('en');
    expect(await page.getByTestId('aspect-9:16').textContent()).toBe('Story, Reels 9:16');
    await page.getByTestId('lang-ko').click();
    expect(await lang()).toBe('ko');
  });

  it('turns the Korean description into an English prompt on the device, listing words it does not know', async () => {
    await page.getByTestId('industry-bakery').click();
    await page.getByTestId('prompt').fill(`${bakery.prompt_ko} 뿌잉뿌잉`);
    const built = (await page.getByTestId('built-prompt').textContent())!;
    expect(built).toMatch(/croissant/);
    expect(built).toMatch(/bakery/);
    expect(built).not.toMatch(/[\uac00-\ud7a3]/);
    expect(await page.getByTestId('untranslated').textContent()).toContain('뿌잉뿌잉');

    // the anime style brings its own tags and a negative prompt that does not fight it
    await page.getByTestId('style-anime').click();
    expect(await page.getByTestId('built-prompt').textContent()).toMatch(/masterpiece/);
    await page.getByTestId('advanced').click();
    const negative = await page.getByTestId('negative-prompt').inputValue();
    expect(negative).not.toMatch(/anime|cartoon/);
    expect(negative).toMatch(/text/);

    // the English prompt can be edited, and goes back to the built one
    await page.getByTestId('edit-prompt').click();
    await page.getByTestId('prompt-override').fill('croissants on a tray');
    await page.getByTestId('reset-prompt').click();
    expect(await page.getByTestId('built-prompt').textContent()).toMatch(/croissant/);
    await page.getByTestId('style-ultra_realistic').click();
    await page.getByTestId('prompt').fill(bakery.prompt_ko);
  });

  it('says what is wrong with a field in a Korean sentence, keeping what was typed', async () => {
    await page.getByTestId('steps').fill('0');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.locator('.issue').allTextContents()).toEqual(['단계 수는 1 이상이어야 해요.']);
    expect(await page.getByTestId('prompt').inputValue()).toBe(bakery.prompt_ko);
  });

  it('keeps progress and Cancel in view after 만들기, lays the copy over the image, re-lays it when edited, and exports a 1080x1350 JPEG', { timeout: 300_000 }, async () => {
    await page.getByTestId('steps').fill('4');
    await page.getByTestId('route-device').click();
    await page.getByTestId('copy-shop_name').fill('아침빵집');
    await page.getByTestId('copy-headline').fill('매일 아침 갓 구운 크루아상');
    await page.getByTestId('copy-badge').fill('50% 할인');
    const before = generations();
    const history = Number(await page.getByTestId('history-count').textContent());

    await page.getByTestId('generate').click();
    await page.getByTestId('progress').waitFor();
    // on the phone the progress panel is pinned inside the screen, with its Cancel button
    const box = (await page.getByTestId('progress').boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    expect(box.y + box.height).toBeLessThanOrEqual(PHONE.height);
    expect(await page.getByTestId('cancel').isVisible()).toBe(true);
    expect(await page.getByTestId('cancel').textContent()).toBe('취소');

    await expect.poll(() => page.getByTestId('history-count').textContent(), { timeout: 240_000, interval: 250 }).toBe(String(history + 1));
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
    expect(await page.getByTestId('result-route').textContent()).toBe('이 기기');
    expect(generations()).toBe(before);
    const withCopy = await resultBytes();
    expect(await pageWidth()).toBeLessThanOrEqual(PHONE.width);

    // edit the headline after the fact: the image is laid out again, nothing is generated again
    await page.getByTestId('edit-copy').click();
    await page.locator('.edit [data-testid=copy-headline]').fill('오늘만 크루아상 1+1');
    await expect.poll(async () => JSON.stringify(await resultBytes()) !== JSON.stringify(withCopy), { timeout: 30_000 }).toBe(true);
    expect(await page.locator('form [data-testid=copy-headline]').inputValue()).toBe('오늘만 크루아상 1+1');
    expect(Number(await page.getByTestId('history-count').textContent())).toBe(history + 1);
    expect(generations()).toBe(before);

    // export for an Instagram portrait post
    await page.getByTestId('export-size').selectOption('1080x1350');
    await page.getByTestId('export-format').selectOption('jpeg');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByTestId('export-download').click()]);
    expect(download.suggestedFilename()).toMatch(/^아침빵집-1080x1350.*\.jpg$/);
    const file = new Uint8Array(readFileSync((await download.path())!));
    expect([file[0], file[1]]).toEqual([0xff, 0xd8]);
    expect(jpegSize(file)).toEqual({ width: 1080, height: 1350 });
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
  });
});
