/**
 * The optional translation model on the server: a Marian package (the tiny random-weight opus-mt-ko-en stand-in)
 * in the models folder is announced, served to devices with a manifest, and used by the prompt node for Korean
 * `ad.text`; without it the glossary translates.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import adCases from '../../src/core/product/ad-cases.json';
import { buildPrompt } from '../../src/core/prompt/index.ts';
import { MarianTranslator } from '../../src/core/translation/marian.ts';
import { modelsWithTranslation } from '../helpers/fixture.ts';
import { startServer, type RunningServer } from '../helpers/server.ts';

const bakery = (adCases as { cases: { id: string; prompt_ko: string }[] }).cases.find((c) => c.id === 'bakery')!;
let models: ReturnType<typeof modelsWithTranslation>;
let server: RunningServer;

beforeAll(async () => {
  models = modelsWithTranslation();
  server = await startServer({ modelsDir: models.modelsDir, styleModels: models.styleModels });
});
afterAll(async () => {
  await server?.close();
  models?.remove();
});

type Node = { node: string; status: string; detail?: Record<string, unknown> };

async function render(ad: Record<string, unknown>): Promise<{ status: string; nodes: Node[] }> {
  const body = { ad, width: 64, height: 64, seed: 1000, num_inference_steps: 2, style: 'ultra_realistic' };
  const submitted = await fetch(`${server.url}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(submitted.status).toBe(202);
  const { id } = (await submitted.json()) as { id: string };
  for (let i = 0; i < 1200; i++) {
    const job = await (await fetch(`${server.url}/api/generations/${id}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${id} did not finish`);
}

describe('the translation model on the server', () => {
  it('is announced by GET /api/models and served with a manifest, its files by content hash', async () => {
    const listed = await (await fetch(`${server.url}/api/models`)).json();
    expect(listed.translation_model).toBe('opus-mt-ko-en');
    // it is not an SDXL checkpoint: the model list does not offer it
    expect(listed.models.map((m: { id: string }) => m.id)).toEqual(['tiny-sdxl']);
    const manifest = await (await fetch(`${server.url}/models/opus-mt-ko-en/manifest.json`)).json();
    expect(manifest).toMatchObject({ schema: 2, id: 'opus-mt-ko-en', pipeline: 'MarianMTModel', realSize: false });
    expect(manifest.variants).toHaveLength(1);
    expect(manifest.variants[0]).toMatchObject({ name: 'fp32', root: '' });
    expect(manifest.variants[0].files).toEqual(expect.arrayContaining(['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx', 'source.spm', 'vocab.json', 'config.json']));
    const encoder = manifest.files.find((f: { path: string }) => f.path === 'encoder_model.onnx');
    const bytes = new Uint8Array(await (await fetch(`${server.url}/models/files/${encoder.sha256}`)).arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(encoder.sha256);
    expect(bytes).toEqual(new Uint8Array(readFileSync(join(models.modelsDir, 'opus-mt-ko-en/encoder_model.onnx'))));
  });

  it('translates Korean ad.text in the prompt node with the model, and says so in the node record', { timeout: 120_000 }, async () => {
    const job = await render({ text: bakery.prompt_ko, industry: 'bakery' });
    expect(job.status).toBe('succeeded');
    const prompt = job.nodes.find((n) => n.node === 'prompt')!;
    expect(prompt.status).toBe('succeeded');
    const translator = await MarianTranslator.load(new DirectoryStore(join(models.modelsDir, 'opus-mt-ko-en')), createNodeRuntime('cpu'), 'opus-mt-ko-en');
    const english = (await translator.translate(bakery.prompt_ko)).text;
    await translator.release();
    expect(prompt.detail).toMatchObject({ source: 'ad.text', translated_by: 'opus-mt-ko-en', translation: english, prompt: buildPrompt({ text: english, style: 'ultra_realistic', industry: 'bakery' }).prompt });
  });

  it('leaves English ad.text to the glossary', { timeout: 120_000 }, async () => {
    const job = await render({ text: 'fresh croissants in a bakery window', industry: 'bakery' });
    expect(job.nodes.find((n) => n.node === 'prompt')!.detail).toMatchObject({ translated_by: 'glossary' });
  });
});

describe('without a translation model', () => {
  it('announces none, and the glossary translates Korean', { timeout: 120_000 }, async () => {
    const plain = await startServer();
    try {
      expect((await (await fetch(`${plain.url}/api/models`)).json()).translation_model).toBeNull();
      expect((await fetch(`${plain.url}/models/opus-mt-ko-en/manifest.json`)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });
});
