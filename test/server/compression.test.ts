/**
 * The built app is served compressed from the brotli and gzip copies written at build time (vite.config.ts,
 * @fastify/static `preCompressed`), by the request's Accept-Encoding, with the same decoded bytes, Content-Type,
 * caching and isolation headers; model files are never compressed and keep their Range requests.
 */
import { request } from 'node:http';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const DIST = join(ROOT, 'dist');

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A GET with exactly these headers, its body as sent (undecoded: fetch would decode it). */
function get(base: string, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const decode = (r: Raw) => (r.headers['content-encoding'] === 'br' ? brotliDecompressSync(r.body) : r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body);

let server: RunningServer;
let script: string;
let wasm: string;

beforeAll(async () => {
  server = await startServer();
  // the page's entry script, and onnxruntime's wasm (the largest asset)
  script = /<script type="module"[^>]* src="(\/assets\/[^"]+\.js)"/.exec(readFileSync(join(DIST, 'index.html'), 'utf8'))![1]!;
  wasm = `/assets/${readdirSync(join(DIST, 'assets')).find((f) => /^ort-wasm-.*\.wasm$/.test(f))!}`;
});
afterAll(() => server.close());

describe('compressed assets', () => {
  it.each([
    ['/', 'index.html', /^text\/html; charset=utf-8$/],
    ['script', '', /^(?:application|text)\/javascript; charset=utf-8$/],
    ['wasm', '', /^application\/wasm$/],
  ])('%s: br for br, gzip for gzip only, identity otherwise, the same bytes decoded', async (which, file, type) => {
    const path = which === 'script' ? script : which === 'wasm' ? wasm : which;
    const original = readFileSync(join(DIST, file || path));
    const cases: [Record<string, string>, string | undefined][] = [
      [{ 'accept-encoding': 'br' }, 'br'],
      [{ 'accept-encoding': 'gzip, deflate, br, zstd' }, 'br'],
      [{ 'accept-encoding': 'gzip' }, 'gzip'],
      [{ 'accept-encoding': 'gzip, deflate' }, 'gzip'],
      [{ 'accept-encoding': 'identity' }, undefined],
      [{}, undefined],
    ];
    const answers = await Promise.all(cases.map(([headers]) => get(server.url, path, headers)));
    for (const [i, r] of answers.entries()) {
      expect(r.status, JSON.stringify(cases[i]![0])).toBe(200);
      expect(r.headers['content-encoding'], JSON.stringify(cases[i]![0])).toBe(cases[i]![1]);
      expect(decode(r).equals(original)).toBe(true);
      expect(r.headers['content-type']).toMatch(type);
      expect(r.headers['vary']).toMatch(/accept-encoding/i);
      expect(r.headers['content-length']).toBe(String(r.body.length));
      expect(r.headers['cache-control']).toBe(answers.at(-1)!.headers['cache-control']);
      expect(r.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(r.headers['cross-origin-embedder-policy']).toBe('require-corp');
      expect(r.headers['cross-origin-resource-policy']).toBe('same-origin');
    }
    // the compressed copies are smaller than the file (the index too: brotli 11 on 700 bytes of HTML)
    expect(answers[0]!.body.length).toBeLessThan(original.length);
    expect(answers[2]!.body.length).toBeLessThan(original.length);
  });

  it('the service worker is compressed too, and keeps its JavaScript type', async () => {
    const br = await get(server.url, '/sw.js', { 'accept-encoding': 'br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers['content-type']).toMatch(/^(?:application|text)\/javascript; charset=utf-8$/);
    expect(decode(br).equals(readFileSync(join(DIST, 'sw.js')))).toBe(true);
  });

  it('model files are not compressed and answer Range requests', async () => {
    const path = '/models/tiny-sdxl/model_index.json';
    const full = await get(server.url, path, { 'accept-encoding': 'gzip, deflate, br' });
    expect(full.status).toBe(200);
    expect(full.headers['content-encoding']).toBeUndefined();
    const range = await get(server.url, path, { 'accept-encoding': 'gzip, deflate, br', range: 'bytes=10-49' });
    expect(range.status).toBe(206);
    expect(range.headers['content-encoding']).toBeUndefined();
    expect(range.headers['content-range']).toBe(`bytes 10-49/${full.body.length}`);
    expect(range.body.equals(full.body.subarray(10, 50))).toBe(true);
  });
});
