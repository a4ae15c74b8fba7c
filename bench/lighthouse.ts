/**
 * Lighthouse (12, mobile form factor: a Moto G Power-sized screen, simulated slow 4G and 4x CPU slowdown) on the
 * built app served by the real server, in Debian's headless Chromium, in Korean and in English. Prints each
 * category's score per language, then one JSON line. Needs `npx vite build` (or `npm run build`) first.
 *
 *   npm run bench:lighthouse
 */
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { CHROMIUM_ARGS } from '../test/helpers/browser.ts';
import { startServer } from '../test/helpers/server.ts';

const CATEGORIES = ['performance', 'accessibility', 'best-practices', 'seo'];

const server = await startServer();
const results: Record<string, Record<string, number | null>> = {};
const failed: Record<string, string[]> = {};
try {
  for (const locale of ['ko-KR', 'en-US']) {
    const chrome = await chromeLauncher.launch({
      chromePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      chromeFlags: ['--headless=new', ...CHROMIUM_ARGS, `--lang=${locale}`],
    });
    try {
      const run = await lighthouse(server.url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: CATEGORIES, locale: locale.slice(0, 2) as 'ko' | 'en' }, undefined);
      const lhr = run!.lhr;
      results[locale] = Object.fromEntries(CATEGORIES.map((c) => [c, lhr.categories[c]?.score === null || lhr.categories[c] === undefined ? null : Math.round(lhr.categories[c]!.score! * 100)]));
      // the audits that cost points, for fixing them
      failed[locale] = Object.values(lhr.audits)
        .filter((a) => a.score !== null && a.score < 1 && (a.scoreDisplayMode === 'binary' || a.scoreDisplayMode === 'numeric') && ['accessibility', 'best-practices'].some((c) => lhr.categories[c]?.auditRefs.some((r) => r.id === a.id && r.weight > 0)))
        .map((a) => a.id);
      console.log(`${locale}: ${CATEGORIES.map((c) => `${c} ${results[locale]![c]}`).join(', ')}${failed[locale]!.length ? `; failing: ${failed[locale]!.join(', ')}` : ''}`);
    } finally {
      chrome.kill();
    }
  }
} finally {
  await server.close();
}
console.log(JSON.stringify({ lighthouse: '12.8.2', form_factor: 'mobile', scores: results, failing: failed }));
