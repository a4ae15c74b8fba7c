/**
 * One ad, as the owner makes it, on each route: headless Debian Chromium on a 390x844 phone in Korean,
 * simple mode (bakery, the bakery case's Korean text, 3:4, shop name, headline and "오늘만 20% 할인"), against
 * the real server with the default install (tiny random-weight packages; SwiftShader WebGPU on the CPU for the
 * device). Prints, per route, the time from tapping 만들기 to the ad with its copy on screen, the workflow's node
 * durations, and the 1080x1350 JPEG export; then one JSON line. Needs `npx vite build` first.
 *
 *   npm run bench:ad                  BENCH_STEPS (default 8) denoising steps
 */
import type { Page } from 'playwright-core';
import { AD_CASES } from '../src/core/product/index.ts';
import { launchBrowser } from '../test/helpers/browser.ts';
import { startServer } from '../test/helpers/server.ts';

const STEPS = Number(process.env.BENCH_STEPS ?? 8);
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;

async function openAdvanced(page: Page): Promise<void> {
  if (!(await page.locator('details.advanced').evaluate((d) => (d as HTMLDetailsElement).open))) await page.getByTestId('advanced').click();
}

async function oneAd(page: Page, route: 'device' | 'server'): Promise<Record<string, number>> {
  await openAdvanced(page);
  await page.getByTestId(`route-${route}`).click();
  const before = await page.getByTestId('history-count').textContent();
  const started = performance.now();
  await page.getByTestId('generate').click();
  await page.waitForFunction((count) => document.querySelector('[data-testid=history-count]')?.textContent !== count || document.querySelector('[data-testid=notice-error]'), before, { timeout: 600_000 });
  const adMs = performance.now() - started;
  const errors = await page.getByTestId('notice-error').allTextContents();
  if (errors.length) throw new Error(errors.join('; '));
  const nodes = await page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('[data-testid^=node-]')].map((li) => [li.getAttribute('data-testid')!.slice(5), li.querySelector('.time')?.textContent ?? '']),
    ),
  );
  const exportStarted = performance.now();
  await page.getByTestId('export-size').selectOption('1080x1350');
  await page.getByTestId('export-format').selectOption('jpeg');
  await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), page.getByTestId('export-download').click()]);
  const exportMs = performance.now() - exportStarted;
  console.log(`${route}: ad ${(adMs / 1000).toFixed(2)} s from 만들기 to the ad on screen; nodes ${JSON.stringify(nodes)}; 1080x1350 JPEG export ${(exportMs / 1000).toFixed(2)} s`);
  // the panel shows "830 ms" or "1.2 s"
  const ms = (text: string) => (text.endsWith(' s') ? Math.round(Number.parseFloat(text) * 1000) : Number.parseFloat(text));
  return { ad_ms: Math.round(adMs), jpeg_1080x1350_ms: Math.round(exportMs), ...Object.fromEntries(Object.entries(nodes).map(([k, v]) => [`${k}_ms`, ms(v)])) };
}

const server = await startServer();
const browser = await launchBrowser({ locale: 'ko-KR', viewport: { width: 390, height: 844 }, simple: true });
const page = browser.page;
const results: Record<string, unknown> = {};
try {
  await page.goto(server.url);
  await page.getByTestId('adapter').waitFor();
  await page.getByTestId('industry-bakery').click();
  await page.getByTestId('aspect-3:4').click();
  await page.getByTestId('prompt').fill(bakery.prompt_ko);
  await page.getByTestId('copy-shop_name').fill('아침빵집');
  await page.getByTestId('copy-headline').fill('매일 아침 갓 구운 크루아상');
  await page.getByTestId('copy-badge').fill('오늘만 20% 할인');
  await openAdvanced(page);
  await page.getByTestId('steps').fill(String(STEPS));
  // the first device run downloads the model: download it first, so the figure is the ad itself
  await page.getByTestId('download-model').click();
  await page.waitForFunction(() => /이 기기에 있어요/.test(document.querySelector('[data-testid=model-stored]')?.textContent ?? ''), null, { timeout: 120_000 });
  for (const route of ['device', 'server'] as const) {
    await oneAd(page, route); // warm: sessions created, wasm compiled
    results[route] = await oneAd(page, route);
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify({ steps: STEPS, size: '3:4 on the tiny packages', warm: true, ...results }));
