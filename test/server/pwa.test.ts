/**
 * The installable app as built (test/globalSetup.ts runs `vite build`): the service worker precaches the app
 * shell, the fonts and the small wasm but not onnxruntime-web's wasm, which a runtime CacheFirst route caches on
 * first use; the web manifest and the page name PNG icons (a maskable one, an opaque apple-touch-icon), which
 * are those scripts/icons.ts makes from public/icon.svg.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { icons } from '../../scripts/icons.ts';
import { ROOT } from '../helpers/fixture.ts';

const DIST = join(ROOT, 'dist');
const PUBLIC = join(ROOT, 'public');
const sw = () => readFileSync(join(DIST, 'sw.js'), 'utf8');
/** The precache manifest's URLs, as workbox writes them into sw.js (minified or not). */
const precached = () => [...sw().matchAll(/[{,"]url"?\s*:\s*"([^"]+)"/g)].map((m) => m[1]!);
const assets = () => readdirSync(join(DIST, 'assets')).filter((f) => !/\.(?:br|gz)$/.test(f));
const ORT = /^ort-wasm-.*\.(?:wasm|mjs)$/;

describe('service worker precache', () => {
  it('lists no onnxruntime wasm, and every other wasm, the fonts, scripts, styles and the page', () => {
    const urls = precached();
    const ort = assets().filter((f) => ORT.test(f));
    expect(ort.length).toBeGreaterThanOrEqual(1);
    expect(urls.filter((u) => /ort-wasm/.test(u))).toEqual([]);
    const wanted = assets().filter((f) => !ORT.test(f) && /\.(?:wasm|otf|js|css)$/.test(f));
    expect(wanted.some((f) => f.endsWith('.otf'))).toBe(true);
    expect(wanted.some((f) => f.endsWith('.wasm'))).toBe(true);
    expect(wanted.map((f) => `assets/${f}`).filter((u) => !urls.includes(u))).toEqual([]);
    for (const u of ['index.html', 'manifest.webmanifest', 'icon-192.png', 'icon-512.png', 'icon-maskable-512.png', 'apple-touch-icon.png']) expect(urls).toContain(u);
    // no compressed copy is precached (the browser gets the encoding it asked for)
    expect(urls.filter((u) => /\.(?:br|gz)$/.test(u))).toEqual([]);
  });

  it('caches onnxruntime wasm at runtime, CacheFirst in its own cache', () => {
    const code = sw();
    const route = /registerRoute\(\s*(\/.+?\/[a-z]*)\s*,\s*new\s+[\w.]+\.CacheFirst\(\s*\{\s*"?cacheName"?\s*:\s*"onnxruntime-wasm"/.exec(code);
    expect(route, 'a registerRoute(<regexp>, new CacheFirst({cacheName: "onnxruntime-wasm"}))').not.toBeNull();
    const literal = route![1]!;
    const pattern = new RegExp(literal.slice(1, literal.lastIndexOf('/')), literal.slice(literal.lastIndexOf('/') + 1));
    // workbox matches a RegExp route against the full URL
    for (const f of assets().filter((f) => ORT.test(f))) expect(pattern.test(`https://studio.example/assets/${f}`), f).toBe(true);
    for (const f of assets().filter((f) => !ORT.test(f))) expect(pattern.test(`https://studio.example/assets/${f}`), f).toBe(false);
    expect(code).toMatch(/ExpirationPlugin\(\s*\{\s*"?maxEntries"?\s*:\s*2\b/);
  });
});

describe('icons', () => {
  const manifest = () => JSON.parse(readFileSync(join(DIST, 'manifest.webmanifest'), 'utf8')) as { icons: { src: string; sizes: string; type: string; purpose?: string }[] };
  const png = (name: string) => decode(readFileSync(join(DIST, name)));

  it('the web manifest names 192 and 512 px PNGs and a maskable one, at their real sizes', () => {
    const list = manifest().icons;
    expect(list).toEqual(
      expect.arrayContaining([
        { src: 'icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
        { src: 'icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
        { src: 'icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      ]),
    );
    for (const icon of list.filter((i) => i.type === 'image/png')) {
      const image = png(icon.src);
      expect(`${image.width}x${image.height}`).toBe(icon.sizes);
    }
  });

  it('the page links a 180 px apple-touch-icon without an alpha channel', () => {
    expect(readFileSync(join(DIST, 'index.html'), 'utf8')).toMatch(/<link rel="apple-touch-icon" href="\/apple-touch-icon.png"/);
    const image = png('apple-touch-icon.png');
    expect([image.width, image.height, image.channels]).toEqual([180, 180, 3]);
  });

  it('the maskable icon is full-bleed, with everything but background inside the central 80% circle', () => {
    const image = png('icon-maskable-512.png');
    expect(image.channels).toBe(3);
    const { width, data } = image;
    const background = [...data.subarray(0, 3)];
    let inside = 0;
    let outside = 0;
    for (let y = 0; y < width; y++) {
      for (let x = 0; x < width; x++) {
        const i = (y * width + x) * 3;
        const same = data[i] === background[0] && data[i + 1] === background[1] && data[i + 2] === background[2];
        if (Math.hypot(x + 0.5 - width / 2, y + 0.5 - width / 2) > 0.4 * width) outside += same ? 0 : 1;
        else if (!same) inside++;
      }
    }
    expect(outside).toBe(0);
    expect(inside).toBeGreaterThan(width * width * 0.1);
  });

  it('the committed PNGs are what scripts/icons.ts makes from icon.svg', () => {
    for (const [name, bytes] of Object.entries(icons(readFileSync(join(PUBLIC, 'icon.svg'), 'utf8')))) {
      expect(existsSync(join(PUBLIC, name)), name).toBe(true);
      expect(Buffer.from(bytes).equals(readFileSync(join(PUBLIC, name))), `${name}: run npm run icons`).toBe(true);
    }
  });
});
