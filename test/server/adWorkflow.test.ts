import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Value from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AD_CASES } from '../../src/core/product/index.ts';
import { JobSchema } from '../../server/src/http/apiSchemas.ts';
import { JobStore } from '../../server/src/jobs/jobStore.ts';
import { decodeRgba } from '../helpers/png.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.close());

const post = (body: unknown) => fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

async function waitForJob(id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 600; i++) {
    const job = await (await fetch(`${server.url}/api/generations/${id}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}

async function download(url: string): Promise<Uint8Array> {
  const response = await fetch(`${server.url}${url}`);
  expect(response.status).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
}

const cafe = AD_CASES.find((c) => c.id === 'barista')!;
const adBody = {
  ad: { text: cafe.prompt_ko, industry: 'cafe', copy: { shop_name: '연남 커피', headline: '오늘의 라테 아트', badge: '1+1' } },
  style: 'ultra_realistic',
  width: 96,
  height: 128,
  num_inference_steps: 3,
  seed: 11,
};

describe('the ad workflow on the server', () => {
  it('a request with ad.text and copy, no prompt: nodes prompt, txt2img, layout, export succeeded; the final and the raw image', async () => {
    const response = await post(adBody);
    expect(response.status).toBe(202);
    const accepted = await response.json();
    expect(accepted.request.prompt).toBeUndefined();
    expect(accepted.request.ad).toEqual(adBody.ad);

    const job = await waitForJob(accepted.id);
    expect(job.status).toBe('succeeded');
    expect(job.nodes.map((n: { node: string; status: string }) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'succeeded'], ['export', 'succeeded']]);
    for (const node of job.nodes) {
      expect(node.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(node.started_at)).not.toBeNaN();
    }
    expect(job.nodes[1].duration_ms).toBeGreaterThan(0);
    expect(job.nodes[0].detail).toMatchObject({ source: 'ad.text', industry: 'cafe', style: 'ultra_realistic' });
    expect(job.nodes[0].detail.prompt).toMatch(/latte|barista|coffee|cafe/i);
    expect(job.nodes[1].detail).toMatchObject({ steps: 3, width: 96, height: 128, seed: 11 });
    expect(job.nodes[2].detail).toMatchObject({ applied: true });
    expect(Value.Check(JobSchema, job), JSON.stringify([...Value.Errors(JobSchema, job)].slice(0, 3))).toBe(true);

    expect(job.image_url).toBe(`/api/images/${job.result.sha256}.png`);
    expect(job.raw_image_url).toBe(`/api/images/${job.result.raw_sha256}.png`);
    expect(job.result.raw_sha256).not.toBe(job.result.sha256);
    const [png, raw] = await Promise.all([download(job.image_url), download(job.raw_image_url)]);
    expect(createHash('sha256').update(png).digest('hex')).toBe(job.result.sha256);
    expect(createHash('sha256').update(raw).digest('hex')).toBe(job.result.raw_sha256);
    expect(job.nodes[3].detail).toMatchObject({ bytes: png.byteLength, raw_bytes: raw.byteLength });
    expect(decodeRgba(png)).toMatchObject({ width: 96, height: 128 });
    expect(decodeRgba(raw)).toMatchObject({ width: 96, height: 128 });

    // a typed prompt without copy: layout skipped, no raw image
    const plain = await waitForJob((await (await post({ prompt: cafe.prompt, width: 64, height: 64, num_inference_steps: 2, seed: 1 })).json()).id);
    expect(plain.status).toBe('succeeded');
    expect(plain.nodes.map((n: { node: string; status: string }) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'skipped'], ['export', 'succeeded']]);
    expect(plain.raw_image_url).toBeUndefined();
    expect(plain.result.raw_sha256).toBeUndefined();
  });

  it('neither ad.text nor prompt: 400 naming prompt with rule required', async () => {
    const { ad, ...rest } = adBody;
    const response = await post({ ...rest, ad: { copy: ad.copy } });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.issues).toEqual([{ field: 'prompt', message: 'is required', rule: 'required' }]);
  });

  it('copy over its limit: 400 naming ad.copy.headline with its limit', async () => {
    const response = await post({ ...adBody, ad: { ...adBody.ad, copy: { headline: '가'.repeat(61) } } });
    expect(response.status).toBe(400);
    expect((await response.json()).error.issues).toEqual([expect.objectContaining({ field: 'ad.copy.headline', rule: 'max_length', limit: 60 })]);
  });
});

describe('job database made before the workflow', () => {
  it('gains the nodes column; its jobs read as before and new ones keep their nodes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ad-studio-old-db-'));
    try {
      const path = join(dir, 'jobs.sqlite');
      // the jobs table as the previous release created it (no `nodes`)
      const old = new Database(path);
      old.exec(`CREATE TABLE reference_images (sha256 TEXT PRIMARY KEY, type TEXT NOT NULL, file BLOB NOT NULL);
        CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
          status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')), request TEXT NOT NULL,
          request_hash TEXT NOT NULL, reference TEXT, reference_sha256 TEXT REFERENCES reference_images (sha256), idempotency_key TEXT UNIQUE,
          attempts INTEGER NOT NULL DEFAULT 0, result TEXT, error TEXT, created_at TEXT NOT NULL, started_at TEXT, finished_at TEXT);`);
      old.prepare("INSERT INTO jobs (id, status, request, request_hash, result, created_at) VALUES ('old', 'succeeded', ?, 'h', ?, '2025-01-01T00:00:00.000Z')")
        .run(JSON.stringify({ prompt: 'a cafe', width: 64, height: 64, seed: 1 }), JSON.stringify({ sha256: 'a'.repeat(64) }));
      old.close();

      const store = new JobStore(path);
      try {
        expect(store.get('old')).toMatchObject({ status: 'succeeded', request: { prompt: 'a cafe' }, result: { sha256: 'a'.repeat(64) } });
        expect(store.get('old')!.nodes).toBeUndefined();
        store.insert({ id: 'new', request: { ad: { text: '카페' }, width: 64, height: 64, seed: 1 } as never, requestHash: 'n' });
        const nodes = [{ node: 'prompt', status: 'succeeded' as const, started_at: '2025-01-01T00:00:00.000Z', duration_ms: 1 }];
        expect(store.finish('new', 'failed', { error: { code: 'internal', message: 'x' }, nodes })).toBe(true);
        expect(store.get('new')!.nodes).toEqual(nodes);
      } finally {
        store.close();
      }
      // opening it again is a no-op
      new JobStore(path).close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
