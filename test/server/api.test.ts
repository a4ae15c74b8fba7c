import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelManifest } from '../../src/core/loading/manifest.ts';
import { AD_CASES, sizeForAspectRatio } from '../../src/core/product/index.ts';
import { FIXTURE_ID } from '../helpers/fixture.ts';
import { decodeRgba } from '../helpers/png.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';
import { referencePhoto } from '../helpers/images.ts';
import { encode as encodePng } from 'fast-png';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => server?.close());

const post = (body: unknown, raw = false) =>
  fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ? (body as string) : JSON.stringify(body) });

async function waitForJob(id: string): Promise<Record<string, any>> {
  const seen = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const job = await (await fetch(`${server.url}/api/generations/${id}`)).json();
    seen.add(job.status);
    if (!['queued', 'running'].includes(job.status)) return { ...job, seen };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}

/** The barista case (3:4) at the fixture's scale, 4 steps. */
const barista = AD_CASES.find((c) => c.id === 'barista')!;
const baristaRequest = { prompt: barista.prompt, ...sizeForAspectRatio(barista.aspect_ratio, 64), seed: barista.seed, num_inference_steps: 4 };

describe('generation API over HTTP on loopback', () => {
  it('submit -> 202 with a job id, poll to completion, download the PNG by its content hash', async () => {
    const response = await post(baristaRequest);
    expect(response.status).toBe(202);
    const job = await response.json();
    expect(job.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.headers.get('location')).toBe(`/api/generations/${job.id}`);
    expect(job.request).toMatchObject({ ...baristaRequest, model: FIXTURE_ID, guidance_scale: 7.5, negative_prompt: '' });

    const done = await waitForJob(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress).toMatchObject({ step: 4, total_steps: 4 });
    expect(done.result).toMatchObject({ width: 56, height: 72, seed: 1000, execution_provider: 'cpu' });
    const { sha256 } = done.result;
    expect(done.image_url).toBe(`/api/images/${sha256}.png`);

    const image = await fetch(`${server.url}${done.image_url}`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('cache-control')).toContain('immutable');
    const png = new Uint8Array(await image.arrayBuffer());
    expect(createHash('sha256').update(png).digest('hex')).toBe(sha256);
    expect(decodeRgba(png)).toMatchObject({ width: 56, height: 72 });
    expect(existsSync(join(server.dataDir, 'images', sha256.slice(0, 2), `${sha256}.png`))).toBe(true);
  });

  it('the same request gives the same content hash; jobs queue and all finish', async () => {
    const jobs = await Promise.all([post(baristaRequest), post(baristaRequest), post({ ...baristaRequest, seed: 7 })]).then((rs) => Promise.all(rs.map((r) => r.json())));
    const done = await Promise.all(jobs.map((j) => waitForJob(j.id)));
    expect(done.map((d) => d.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done[0]!.result.sha256).toBe(done[1]!.result.sha256);
    expect(done[2]!.result.sha256).not.toBe(done[0]!.result.sha256);
  });

  it('invalid payloads get 400 naming the field', async () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...baristaRequest, prompt: '' }, 'prompt', /fewer than 1 characters/],
      [{ ...baristaRequest, width: 57 }, 'width', /multiple of 8/],
      [{ ...baristaRequest, num_inference_steps: 1000 }, 'num_inference_steps', /<= 150/],
      [{ ...baristaRequest, guidance_scale: 'high' }, 'guidance_scale', /number/],
      [{ ...baristaRequest, model: 'sdxl-turbo' }, 'model', /not installed/],
      [{ ...baristaRequest, extra: true }, '(body)', /unknown field/],
      ['{"prompt": ', '(body)', /JSON/],
    ];
    for (const [body, field, message] of cases) {
      const response = await post(body, typeof body === 'string');
      expect(response.status, JSON.stringify(body)).toBe(400);
      const { error } = await response.json();
      expect(error.code).toBe('invalid_request');
      const issue = error.issues.find((i: { field: string }) => i.field === field);
      expect(issue?.message, `${field} in ${JSON.stringify(error)}`).toMatch(message);
    }
  });

  it('image-to-image: the reference photo is checked, used, and not echoed back in the job', async () => {
    const image = referencePhoto(120, 160);
    const response = await post({ ...baristaRequest, image, strength: 0.5 });
    expect(response.status).toBe(202);
    const job = await response.json();
    expect(job.request.image).toBeUndefined();
    const fileBytes = Buffer.from(image.slice(image.indexOf(',') + 1), 'base64').length;
    expect(job.reference_image).toEqual({ type: 'image/png', width: 120, height: 160, bytes: fileBytes });
    const done = await waitForJob(job.id);
    expect(done.status).toBe('succeeded');
    expect(done.progress.total_steps).toBe(2);
    const textOnly = await waitForJob((await (await post(baristaRequest)).json()).id);
    expect(done.result.sha256).not.toBe(textOnly.result.sha256);
  });

  it('rejects a bad reference image with 400 naming image: type, content, pixel count, size', async () => {
    const png = (w: number, h: number) => Buffer.from(encodePng({ width: w, height: h, data: new Uint8Array(w * h), channels: 1 })).toString('base64');
    // a PNG whose header claims 9000 x 9000 pixels (the limit is checked before decoding)
    const header = Buffer.from(png(1, 1), 'base64');
    header.writeUInt32BE(9000, 16);
    header.writeUInt32BE(9000, 20);
    const cases: [string, RegExp][] = [
      [`data:image/webp;base64,${png(2, 2)}`, /type image\/webp is not supported/],
      [`data:image/jpeg;base64,${png(2, 2)}`, /declared image\/jpeg but the data is image\/png/],
      [`data:image/png;base64,${Buffer.from('not a picture at all').toString('base64')}`, /not a PNG or JPEG file/],
      [`data:image/png;base64,${header.toString('base64')}`, /each side must be at most 8192/],
      ['https://example.com/photo.png', /must be a data URL/],
    ];
    for (const [image, message] of cases) {
      const response = await post({ ...baristaRequest, image });
      expect(response.status, image.slice(0, 40)).toBe(400);
      const { error } = await response.json();
      expect(error.issues[0]).toMatchObject({ field: 'image' });
      expect(error.issues[0].message).toMatch(message);
    }
    const huge = await post({ ...baristaRequest, image: `data:image/png;base64,${'A'.repeat(17 * 1024 * 1024)}` });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.message).toBe('the request body is over 16 MiB, the limit of POST /api/generations');
  });

  it('unknown jobs and images are 404; a running job can be cancelled', async () => {
    expect((await fetch(`${server.url}/api/generations/00000000-0000-0000-0000-000000000000`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/images/${'0'.repeat(64)}.png`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/images/..%2F..%2Fpackage.json`)).status).toBe(404);
    const job = await (await post({ ...baristaRequest, num_inference_steps: 150 })).json();
    const cancelled = await (await fetch(`${server.url}/api/generations/${job.id}`, { method: 'DELETE' })).json();
    expect(['running', 'cancelled']).toContain(cancelled.status);
    expect((await waitForJob(job.id)).status).toBe('cancelled');
  });

  it('serves model manifests and files, with the headers the browser needs', async () => {
    const response = await fetch(`${server.url}/models/${FIXTURE_ID}/manifest.json`);
    expect(response.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    const manifest = (await response.json()) as ModelManifest;
    expect(manifest).toMatchObject({ id: FIXTURE_ID, pipeline: 'StableDiffusionXLPipeline', nativeSide: 64, vaeScaleFactor: 8 });
    expect(manifest).toMatchObject({ schema: 2, realSize: false });
    expect(manifest.variants.map((v) => v.name)).toEqual(['fp32']);
    const [exported] = manifest.variants;
    expect(Object.fromEntries(Object.entries(exported!.components).map(([c, x]) => [c, x.dtype]))).toEqual({
      text_encoder: 'float32',
      text_encoder_2: 'float32',
      unet: 'float32',
      vae_decoder: 'float32',
      vae_encoder: 'float32',
    });
    expect(exported!.components.unet).toMatchObject({ model: 'unet/model.onnx', externalData: ['unet/model.onnx_data'] });
    expect(exported!.needs.shaderF16).toBe(false);
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toContain('unet/model.onnx_data');
    expect(paths.some((p) => p.startsWith('.'))).toBe(false);
    const file = manifest.files.find((f) => f.path === 'unet/config.json')!;
    const bytes = new Uint8Array(await (await fetch(`${server.url}/models/${FIXTURE_ID}/${file.path}`)).arrayBuffer());
    expect(bytes.length).toBe(file.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    expect((await fetch(`${server.url}/models/${FIXTURE_ID}/.generator-sha256`)).status).toBe(404);
    const models = await (await fetch(`${server.url}/api/models`)).json();
    expect(models.default_model).toBe(FIXTURE_ID);
  });

  it('serves package files by content hash, immutable, with Range requests for resumed and repaired downloads', async () => {
    const manifest = (await (await fetch(`${server.url}/models/${FIXTURE_ID}/manifest.json`)).json()) as ModelManifest;
    const file = manifest.files.find((f) => f.path === 'unet/model.onnx_data')!;
    const whole = await fetch(`${server.url}/models/files/${file.sha256}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('cache-control')).toMatch(/immutable/);
    const bytes = new Uint8Array(await whole.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(file.sha256);
    // every chunk hash in the manifest is the hash of that slice
    const chunks = Array.from({ length: Math.ceil(file.size / manifest.chunkBytes) }, (_, i) => createHash('sha256').update(bytes.subarray(i * manifest.chunkBytes, (i + 1) * manifest.chunkBytes)).digest('hex'));
    expect(file.chunks).toEqual(chunks);
    const part = await fetch(`${server.url}/models/files/${file.sha256}`, { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(Buffer.from(bytes.subarray(1000, 2000)))).toBe(true);
    expect((await fetch(`${server.url}/models/files/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await fetch(`${server.url}/models/files/not-a-hash`)).status).toBe(404);
  });
});
