import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_STYLE_MODELS } from '../../src/core/product/index.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const base = { prompt: 'a strawberry cake in a bakery window', width: 64, height: 64, seed: 1000, num_inference_steps: 2 };

async function submit(body: Record<string, unknown>): Promise<{ id: string; request: { model: string } }> {
  const response = await fetch(`${server!.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, ...body }) });
  expect(response.status).toBe(202);
  return response.json();
}

async function finished(id: string): Promise<{ status: string; started_at: string; result: { sha256: string } }> {
  for (let i = 0; i < 600; i++) {
    const job = await (await fetch(`${server!.url}/api/generations/${id}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${id} did not finish`);
}

const render = async (body: Record<string, unknown>) => {
  const job = await submit(body);
  const done = await finished(job.id);
  expect(done.status).toBe('succeeded');
  return { model: job.request.model, sha256: done.result.sha256 };
};

describe('style checkpoints sharing components', () => {
  it('each style renders with its own checkpoint; switching styles never reloads the shared VAE', async () => {
    server = await startServer();
    const ultra = await render({ style: 'ultra_realistic' });
    const semi = await render({ style: 'semi_realistic' });
    const anime = await render({ style: 'anime' });
    const again = await render({ style: 'ultra_realistic' });
    expect([ultra.model, semi.model, anime.model]).toEqual([DEFAULT_STYLE_MODELS.ultra_realistic, DEFAULT_STYLE_MODELS.semi_realistic, DEFAULT_STYLE_MODELS.anime]);
    // three checkpoints, three images; the same request on the same checkpoint, the same image
    expect(new Set([ultra.sha256, semi.sha256, anime.sha256]).size).toBe(3);
    expect(again.sha256).toBe(ultra.sha256);
    const { created, loadedModel, sessions } = server.services.engine.models;
    expect(loadedModel).toBe('tiny-sdxl');
    // the VAE is one file shared by all three (loaded once); ultra and semi share text encoders, anime has its own;
    // each style has its own UNet, and ultra's stayed cached within the budget for the switch back
    expect(created).toEqual({ vae_decoder: 1, vae_encoder: 1, text_encoder: 2, text_encoder_2: 2, unet: 3 });
    expect(sessions.filter((s) => s.component === 'unet')).toHaveLength(3);
    expect(sessions.filter((s) => s.refs > 0).map((s) => s.component).sort()).toEqual(['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder']);
  });

  it('a memory budget for one checkpoint releases the idle UNet, not the shared VAE', async () => {
    server = await startServer({ modelMemoryBudgetBytes: 7 * 1024 * 1024 });
    await render({ style: 'ultra_realistic' });
    await render({ style: 'semi_realistic' });
    await render({ style: 'ultra_realistic' });
    const { created, sessions } = server.services.engine.models;
    expect(created).toEqual({ vae_decoder: 1, vae_encoder: 1, text_encoder: 1, text_encoder_2: 1, unet: 3 });
    expect(sessions.filter((s) => s.component === 'unet')).toHaveLength(1);
  });

  it('the queue runs jobs for the loaded checkpoint first, unless an older job has waited past the bound', async () => {
    for (const maxWaitMs of [120_000, 0]) {
      server = await startServer({ queueMaxWaitMs: maxWaitMs });
      await render({ style: 'ultra_realistic' });
      const blocker = await submit({ style: 'ultra_realistic', num_inference_steps: 30, width: 128, height: 128 });
      const semi = await submit({ style: 'semi_realistic' });
      const ultra = await submit({ style: 'ultra_realistic', seed: 1001 });
      await finished(blocker.id);
      const [a, b] = [await finished(semi.id), await finished(ultra.id)];
      const ultraFirst = b.started_at < a.started_at;
      // with the bound, the loaded checkpoint's job overtakes; with a bound of 0 the older job goes first
      expect({ maxWaitMs, ultraFirst }).toEqual({ maxWaitMs, ultraFirst: maxWaitMs > 0 });
      await server.close();
      server = undefined;
    }
  });

  it('refuses an unknown style, and a style whose checkpoint is not installed, naming the field', async () => {
    server = await startServer({ styleModels: { ...DEFAULT_STYLE_MODELS, anime: 'not-installed' } });
    const post = (body: Record<string, unknown>) => fetch(`${server!.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...base, ...body }) });
    const unknown = await post({ style: 'watercolour' });
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.issues[0].field).toBe('style');
    const missing = await post({ style: 'anime' });
    expect(missing.status).toBe(400);
    const body = await missing.json();
    expect(body.error.issues[0]).toMatchObject({ field: 'style' });
    expect(body.error.message).toContain('not-installed');
    // a model named explicitly wins over the style
    expect((await submit({ style: 'anime', model: 'tiny-sdxl-semi' })).request.model).toBe('tiny-sdxl-semi');
  });
});
