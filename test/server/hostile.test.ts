/**
 * Hostile input is refused before the 202: whole-request validation however many unknown fields, bounded
 * JSON depth, reference images checked by content (decompression bomb, bad CRC, truncated data), semantic
 * checks; then a fuzz run of 10,000 generated hostile requests across every route: all 4xx, and the server
 * still generates afterwards.
 */
import { crc32, deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonDepthExceeds } from '../../server/src/http/jsonBody.ts';
import { pngInflatedBytes } from '../../server/src/images/verifyReference.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { referencePhoto } from '../helpers/images.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.close());

const cafe = AD_CASES[0]!;
const valid = { prompt: cafe.prompt, width: 64, height: 64, seed: 7, num_inference_steps: 2 };
/** Image-to-image with every step kept (so the image, not the strength, decides). */
const withImage = (image: string) => ({ ...valid, strength: 1, image });
const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) => fetch(`${server.url}/api/generations`, { method: 'POST', headers, body });

/** A PNG built chunk by chunk (valid CRCs unless told), gray 8-bit, with `idat` as its zlib stream. */
function png(width: number, height: number, idat: Uint8Array, options: { breakCrc?: boolean } = {}): Buffer {
  const chunk = (type: string, data: Uint8Array) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    out.set(data, 8);
    out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ (options.breakCrc && type === 'IDAT' ? 1 : 0)) >>> 0, 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // gray
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array())]);
}
const dataUrl = (file: Uint8Array) => `data:image/png;base64,${Buffer.from(file).toString('base64')}`;

describe('hostile input is refused before the 202', () => {
  it('the JSON depth scan skips strings and escapes', () => {
    expect(jsonDepthExceeds('{"a":[[1]]}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":[[[1]]]}', 3)).toBe(true);
    expect(jsonDepthExceeds(JSON.stringify({ a: '[[[[[[{{{{', b: 'x\\"[[[[', c: '\\\\' }), 1)).toBe(false);
    expect(jsonDepthExceeds('['.repeat(5000), 16)).toBe(true);
  });

  it('inflated sizes follow the PNG spec, Adam7 included', () => {
    expect(pngInflatedBytes(64, 64, 8, 0, false)).toBe(64 * 65);
    expect(pngInflatedBytes(3, 2, 8, 6, false)).toBe(2 * (1 + 12));
    expect(pngInflatedBytes(5, 1, 1, 0, false)).toBe(2);
    // 1x1 interlaced: only pass 1 has a pixel
    expect(pngInflatedBytes(1, 1, 8, 2, true)).toBe(4);
  });

  it('JSON nested 5,000 deep is a 400, not a stack overflow', async () => {
    const response = await post(`{"prompt":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/nests deeper than 16 levels/);
  });

  it('unknown fields do not hide the known fields\' errors', async () => {
    const body: Record<string, unknown> = { prompt: 5, width: 65, num_inference_steps: 0, seed: -1 };
    for (let i = 0; i < 12; i++) body[`extra_${i}`] = i;
    const response = await post(JSON.stringify(body));
    expect(response.status).toBe(400);
    const fields = (await response.json()).error.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['(body)', 'prompt', 'width', 'height', 'num_inference_steps', 'seed']));
  });

  it('a PNG bomb, a bad CRC, truncated data and a strength that runs no step are 400s naming the field', async () => {
    const bomb = png(64, 64, deflateSync(Buffer.alloc(48 * 1024 * 1024)));
    const cases: [unknown, string, RegExp][] = [
      [withImage(dataUrl(bomb)), 'image', /decompresses to more than the 4160 bytes its 64x64 header implies/],
      [withImage(dataUrl(png(64, 64, deflateSync(Buffer.alloc(64 * 65)), { breakCrc: true }))), 'image', /IDAT chunk .* fails its CRC/],
      [withImage(dataUrl(png(64, 64, deflateSync(Buffer.alloc(64 * 30))))), 'image', /inflates to 1920 of the 4160 bytes/],
      [withImage(dataUrl(png(64, 64, deflateSync(Buffer.alloc(64 * 65))).subarray(0, 60))), 'image', /truncated PNG/],
      [{ ...valid, num_inference_steps: 4, strength: 0.2, image: referencePhoto(32, 32) }, 'strength', /runs no step; raise strength to at least 0.250/],
    ];
    const before = server.services.jobs.depth();
    for (const [body, field, message] of cases) {
      const response = await post(JSON.stringify(body));
      expect(response.status).toBe(400);
      const { error } = await response.json();
      expect(error.issues[0].field).toBe(field);
      expect(error.issues[0].message).toMatch(message);
    }
    expect(server.services.jobs.depth()).toBe(before);
    // the same pictures made right are accepted
    const good = png(64, 64, deflateSync(Buffer.alloc(64 * 65)));
    expect((await post(JSON.stringify(withImage(dataUrl(good))))).status).toBe(202);
  });

  it('10,000 generated hostile requests across every route: all 4xx, and the server still generates', async () => {
    let state = 0x9e3779b9;
    const random = () => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const junk = () => pick<unknown>([null, true, -1, 0, 1e308, -0.5, 2 ** 64, '', ' ', '\u0000', 'ü'.repeat(3000), [], {}, [1, 2], { $gt: 1 }, '__proto__', '<script>', '../../etc/passwd', 'NaN']);
    // values each field must refuse
    const bad: Record<string, readonly unknown[]> = {
      prompt: [5, '', '   ', null, [], {}, 'x'.repeat(2001), true],
      width: [65, 0, -64, 31, 4096, 64.5, '64', null, 1e9],
      height: [7, 2056, '512', [], -8],
      seed: [-1, 1.5, 2 ** 60, '1', null],
      num_inference_steps: [0, 151, 2.5, -3, '4'],
      guidance_scale: [-1, 31, 'high', null],
      guidance_rescale: [-0.1, 1.5],
      negative_prompt: [1, 'y'.repeat(2001), {}],
      scheduler: ['dpm', 7, 'EULER'],
      model: ['../etc', 'Tiny', 'x'.repeat(80), 3, 'no-such-model'],
      original_size: [[1], [0, 64], [64, 64, 64], 'big', [9000, 64]],
      crops_coords_top_left: [[-1, 0], [0], [0, 0.5]],
      target_size: [[64], null],
      strength: [0, 1.5, -1, 'half'],
      image: ['https://example.com/a.png', 'data:image/png;base64,AAAA', 'data:image/gif;base64,R0lGODlh', 'data:image/jpeg;base64,' + Buffer.from('not a jpeg').toString('base64'), 7, dataUrl(png(64, 64, deflateSync(Buffer.alloc(4 * 1024 * 1024))))],
    };
    const goodPng = Buffer.from(encodePng({ width: 8, height: 8, data: new Uint8Array(64), channels: 1 }));
    const generators: (() => { method: string; path: string; body?: string; headers?: Record<string, string> })[] = [
      () => {
        const body: Record<string, unknown> = { ...valid, strength: 1 };
        const field = pick(Object.keys(bad));
        body[field] = pick(bad[field]!);
        for (let i = Math.floor(random() * 12); i > 0; i--) body[`f${Math.floor(random() * 1000)}`] = junk();
        return { method: 'POST', path: '/api/generations', body: JSON.stringify(body) };
      },
      () => {
        const body: Record<string, unknown> = { ...valid };
        delete body[pick(['prompt', 'width', 'height', 'seed'])];
        return { method: 'POST', path: '/api/generations', body: JSON.stringify(body) };
      },
      () => ({ method: 'POST', path: '/api/generations', body: pick(['', '{', '[]', 'null', '"x"', '{"prompt":', '{"a":1}{', `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`, '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', JSON.stringify(valid).slice(0, 20 + Math.floor(random() * 40))]) }),
      () => ({ method: 'POST', path: '/api/generations', body: JSON.stringify(valid), headers: { 'content-type': pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded']) } }),
      () => ({ method: 'POST', path: '/api/generations', body: JSON.stringify({ ...valid, prompt: 7 }), headers: { 'content-type': 'application/json', 'idempotency-key': pick(['', ' ', 'ü', 'x'.repeat(300)]) } }),
      () => ({ method: 'POST', path: '/api/generations', body: JSON.stringify(withImage(dataUrl(random() < 0.5 ? goodPng.subarray(0, 20 + Math.floor(random() * (goodPng.length - 21))) : Buffer.concat([goodPng.subarray(0, 40), Buffer.from([goodPng[40]! ^ (1 + Math.floor(random() * 255))]), goodPng.subarray(41)])))) }),
      () => ({ method: 'GET', path: `/api/generations?${pick(['status=done', 'limit=0', 'limit=101', 'limit=-1', 'limit=abc', 'cursor=-5', 'cursor=1e3', 'status=queued&limit=1.5'])}` }),
      () => ({ method: pick(['GET', 'DELETE']), path: `/api/generations/${encodeURIComponent(pick(['0', 'x'.repeat(300), '../../package.json', '%', 'ü', '00000000-0000-0000-0000-000000000000', String(random())]))}` }),
      () => ({ method: 'GET', path: `/api/generations/${encodeURIComponent(pick(['0', 'x'.repeat(300), '%', 'ü', '00000000-0000-0000-0000-000000000000']))}/events`, headers: { accept: pick(['text/event-stream', 'application/json']), 'last-event-id': pick(['', 'x', '1-1', 'a'.repeat(300), '-'.repeat(40)]) } }),
      () => ({ method: 'GET', path: `/api/images/${encodeURIComponent(pick(['x.png', '0'.repeat(64) + '.png', '../../package.json', 'a'.repeat(65), '%00']))}` }),
      () => ({ method: 'GET', path: `/models/${encodeURIComponent(pick(['..', 'x'.repeat(200), 'Tiny', 'no-such']))}/manifest.json` }),
      () => ({ method: 'GET', path: `/models/files/${pick(['0'.repeat(64), 'zz', '../../package.json'.replaceAll('/', '%2F'), 'f'.repeat(64)])}` }),
      () => ({ method: pick(['PUT', 'PATCH']), path: pick(['/api/generations', '/api/models', '/api/health']), body: '{}' }),
    ];
    const statuses = new Map<number, number>();
    const wrong: string[] = [];
    const total = 10_000;
    for (let sent = 0; sent < total; ) {
      const batch = Array.from({ length: Math.min(50, total - sent) }, () => pick(generators)());
      sent += batch.length;
      await Promise.all(
        batch.map(async (r) => {
          const response = await fetch(`${server.url}${r.path}`, { method: r.method, ...(r.body !== undefined ? { body: r.body } : {}), headers: r.headers ?? { 'content-type': 'application/json' } });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (response.status < 400 || response.status >= 500) wrong.push(`${r.method} ${r.path.slice(0, 80)} ${r.body?.slice(0, 120) ?? ''} -> ${response.status} ${r.body?.slice(-200) ?? ''}`);
        }),
      );
    }
    console.log(`fuzz: ${total} hostile requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(wrong.slice(0, 10)).toEqual([]);
    // still generating
    const job = await (await post(JSON.stringify(valid))).json();
    let status = job.status;
    for (let i = 0; i < 400 && ['queued', 'running'].includes(status); i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (await (await fetch(`${server.url}/api/generations/${job.id}`)).json()).status;
    }
    expect(status).toBe('succeeded');
  }, 300_000);
});
