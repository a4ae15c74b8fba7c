/**
 * The ad studio as a Korean shop owner meets it, in headless Debian Chromium on a 390x844 phone screen with
 * Korean as the browser's language, against the real server: the interface is Korean, the form is the simple
 * one, the Korean description becomes an English prompt on the device (unknown words listed), progress with
 * Cancel stays in view after tapping 만들기, the ad copy is laid over the image and re-laid when edited
 * without generating again, and the ad exports as a 1080x1350 JPEG named after the shop.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page as it is (WCAG 2.x A and AA rules and best practices), as "rule: target" lines. */
async function accessibilityViolations(): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } });
    return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
  });
}

/** Records the step of every live preview the progress panel shows, from now on (read with `previewSteps`). */
async function watchPreviews(): Promise<void> {
  await page.evaluate(() => {
    const seen: number[] = [];
    (window as unknown as { previewSteps: number[] }).previewSteps = seen;
    new MutationObserver(() => {
      const step = Number(document.querySelector('[data-testid=progress-preview]')?.getAttribute('data-step') ?? NaN);
      if (step && seen.at(-1) !== step) seen.push(step);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}
const previewSteps = () => page.evaluate(() => (window as unknown as { previewSteps: number[] }).previewSteps);

/** Opens Advanced settings unless open already. */
async function openAdvanced(): Promise<void> {
  if (!(await page.locator('details.advanced').evaluate((d) => (d as HTMLDetailsElement).open))) await page.getByTestId('advanced').click();
}

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
    expect(await accessibilityViolations()).toEqual([]);
    // the narrowest phones in use
    await page.setViewportSize({ width: 360, height: 780 });
    expect(await pageWidth()).toBeLessThanOrEqual(360);
    await page.setViewportSize(PHONE);

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
    await openAdvanced();
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
    // what the owner does: bakery, a style, 3:4, Korean text, the shop name and "오늘만 20% 할인"
    await page.getByTestId('aspect-3:4').click();
    await page.getByTestId('copy-shop_name').fill('아침빵집');
    await page.getByTestId('copy-headline').fill('매일 아침 갓 구운 크루아상');
    await page.getByTestId('copy-badge').fill('오늘만 20% 할인');
    const before = generations();
    const history = Number(await page.getByTestId('history-count').textContent());

    await watchPreviews();
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
    // live previews from the latents came during the run
    expect((await previewSteps()).length).toBeGreaterThan(0);
    // how it was made: the workflow's four nodes, all done
    await page.getByTestId('how-it-was-made').click();
    for (const node of ['prompt', 'txt2img', 'layout', 'export']) expect(await page.getByTestId(`node-${node}`).getAttribute('data-status')).toBe('succeeded');
    expect(await page.getByTestId('node-layout').textContent()).toMatch(/^문구 얹기/);
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
    // the page with a result, its editor, export and details open
    await openAdvanced();
    expect(await accessibilityViolations()).toEqual([]);
  });

  it('cancels a run on the device from the pinned progress panel', { timeout: 300_000 }, async () => {
    await page.getByTestId('steps').fill('40');
    const history = await page.getByTestId('history-count').textContent();
    await page.getByTestId('generate').click();
    await page.waitForFunction(() => /단계 중 [1-9]/.test(document.querySelector('[data-testid=progress-label]')?.textContent ?? ''), null, { timeout: 240_000 });
    await page.getByTestId('cancel').click();
    await page.getByTestId('result-cancelled').waitFor({ timeout: 240_000 });
    expect(await page.getByTestId('result-cancelled').textContent()).toBe('만들기를 취소했어요.');
    await expect.poll(() => page.getByTestId('generate').isDisabled(), { timeout: 240_000 }).toBe(false);
    expect(await page.getByTestId('history-count').textContent()).toBe(history);
    expect(await page.getByTestId('notice-error').allTextContents()).toEqual([]);
    await page.getByTestId('steps').fill('4');
  });

  it('the server lays the same copy over the same picture byte for byte as this device does', { timeout: 300_000 }, async () => {
    await page.getByTestId('route-server').click();
    const history = Number(await page.getByTestId('history-count').textContent());
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('history-count').textContent(), { timeout: 120_000, interval: 250 }).toBe(String(history + 1));
    expect(await page.getByTestId('result-route').textContent()).toBe('서버');
    const { jobs } = (await (await fetch(`${server.url}/api/generations?limit=1`)).json()) as { jobs: { request: Record<string, unknown> & { ad: { copy: Record<string, string> } }; raw_image_url: string }[] };
    const job = jobs[0]!;
    expect(job.request.ad.copy).toMatchObject({ shop_name: '아침빵집', badge: '오늘만 20% 할인' });

    // the page lays an edited headline over the server's picture with resvg-wasm ...
    const served = await resultBytes();
    await page.locator('.edit [data-testid=copy-headline]').fill('주말 한정 20% 할인');
    await expect.poll(async () => JSON.stringify(await resultBytes()) !== JSON.stringify(served), { timeout: 30_000 }).toBe(true);
    const inBrowser = Uint8Array.from(await resultBytes());

    // ... and the server, asked for the same with that headline, lays it with resvg-js over the same picture
    const request = { ...job.request, ad: { ...job.request.ad, copy: { ...job.request.ad.copy, headline: '주말 한정 20% 할인' } } };
    const posted = (await (await fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) })).json()) as { id: string };
    let view: { status: string; image_url?: string; raw_image_url?: string } = { status: 'queued' };
    await expect.poll(async () => (view = (await (await fetch(`${server.url}/api/generations/${posted.id}`)).json()) as typeof view).status, { timeout: 120_000 }).toBe('succeeded');
    expect(view.raw_image_url).toBe(job.raw_image_url);
    const onServer = new Uint8Array(await (await fetch(`${server.url}${view.image_url}`)).arrayBuffer());
    expect(Buffer.from(inBrowser).equals(Buffer.from(onServer))).toBe(true);
  });

  it('history tiles show the description and the date, put the settings back when opened, and a delete can be undone', { timeout: 120_000 }, async () => {
    const count = Number(await page.getByTestId('history-count').textContent());
    expect(count).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('history-prompt').first().textContent()).toBe(bakery.prompt_ko);
    expect(await page.locator('[data-testid=history] time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);

    await page.getByTestId('style-anime').click();
    await page.locator('form [data-testid=copy-headline]').fill('다른 문구');
    await page.getByTestId('history-open').first().click();
    expect(await page.locator('form [data-testid=copy-headline]').inputValue()).toBe('오늘만 크루아상 1+1');
    expect(await page.getByTestId('style-ultra_realistic').getAttribute('class')).toMatch(/\bon\b/);
    expect(await page.getByTestId('prompt').inputValue()).toBe(bakery.prompt_ko);
    expect(await page.getByTestId('steps').inputValue()).toBe('4');

    await page.getByTestId('history-delete').first().click();
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(String(count - 1));
    expect(await page.getByTestId('history-deleted').textContent()).toContain('이미지를 지웠어요.');
    await page.getByTestId('history-undo').click();
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(String(count));
    await page.reload();
    await page.getByTestId('adapter').waitFor();
    await expect.poll(() => page.getByTestId('history-count').textContent()).toBe(String(count));
  });

  it('a style on this device downloads only the files it does not hold yet: the shared VAE is not fetched again', { timeout: 120_000 }, async () => {
    const manifest = async (id: string) => (await (await fetch(`${server.url}/models/${id}/manifest.json`)).json()) as { files: { path: string; sha256: string }[] };
    const [photo, anime] = await Promise.all([manifest('tiny-sdxl'), manifest('tiny-sdxl-anime')]);
    const shaOf = (m: typeof photo, prefix: string) => m.files.filter((f) => f.path.startsWith(prefix)).map((f) => f.sha256);
    const vae = shaOf(anime, 'vae_decoder/');
    expect(vae.length).toBeGreaterThan(0);
    expect(shaOf(photo, 'vae_decoder/')).toEqual(vae);
    const unet = shaOf(anime, 'unet/');
    expect(unet.some((sha) => !shaOf(photo, 'unet/').includes(sha))).toBe(true);

    const before = server.requests.length;
    await page.getByTestId('style-anime').click();
    await expect.poll(() => page.getByTestId('model-id').textContent()).toBe('tiny-sdxl-anime');
    await page.getByTestId('download-model').click();
    await expect.poll(() => page.getByTestId('model-stored').textContent(), { timeout: 60_000 }).toMatch(/이 기기에 있어요/);
    const fetched = server.requests.slice(before).filter((url) => url.startsWith('/models/files/')).map((url) => url.slice('/models/files/'.length).split('?')[0]!);
    expect(fetched.some((sha) => unet.includes(sha))).toBe(true);
    for (const sha of vae) expect(fetched).not.toContain(sha);
  });
});
