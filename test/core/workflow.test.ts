import { describe, expect, it } from 'vitest';
import { describeError, EngineError } from '../../src/core/errors.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { parseGenerateRequest, RequestValidationError, type GenerateRequest, type ResolvedRequest } from '../../src/core/request.ts';
import { GenerationCancelledError } from '../../src/core/types.ts';
import { nodesOf, runAdWorkflow, WorkflowError, WorkflowRunner, type AdWorkflowDeps, type GeneratedPixels } from '../../src/core/workflow/index.ts';
import { loadOverlayFonts, rasteriseWithResvgJs } from '../../server/src/overlay/index.ts';
import { decodeRgba } from '../helpers/png.ts';

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;

/** A clock that advances 5 ms per read. */
const ticking = () => {
  let t = 0;
  return () => (t += 5);
};

/** A fake SDXL: a grey-blue gradient of the request's size, recording the requests it got. */
function fakeGenerate(seen: ResolvedRequest[] = []) {
  return async (request: ResolvedRequest): Promise<GeneratedPixels & { seed: number; executionProvider: string }> => {
    seen.push(request);
    const { width, height } = request;
    const rgba = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgba.set([60 + (x % 64), 80, 120 + (y % 64), 255], (y * width + x) * 4);
    }
    return { rgba, width, height, seed: request.seed, executionProvider: 'fake' };
  };
}

const deps = (seen?: ResolvedRequest[]): AdWorkflowDeps<GeneratedPixels> => ({
  generate: fakeGenerate(seen),
  overlay: async () => ({ fonts: await loadOverlayFonts(), rasterise: rasteriseWithResvgJs }),
});

const adRequest = (over: Record<string, unknown> = {}) =>
  parseGenerateRequest({ ad: { text: bakery.prompt_ko, industry: 'bakery', copy: { shop_name: '성수 베이커리', headline: '갓 구운 크루아상', badge: '20% 할인' } }, width: 256, height: 192, seed: 7, num_inference_steps: 4, ...over });

describe('WorkflowRunner', () => {
  it('records each node: status, ISO start, duration, detail; skip has no duration', async () => {
    const runner = new WorkflowRunner({ now: ticking(), date: () => new Date('2025-01-02T03:04:05.000Z') });
    expect(await runner.run('a', () => ({ output: 1, detail: { steps: 4 } }))).toBe(1);
    expect(await runner.run('b', async () => ({ output: 'x' }))).toBe('x');
    runner.skip('c', { reason: 'no copy' });
    expect(runner.nodes).toEqual([
      { node: 'a', status: 'succeeded', started_at: '2025-01-02T03:04:05.000Z', duration_ms: 5, detail: { steps: 4 } },
      { node: 'b', status: 'succeeded', started_at: '2025-01-02T03:04:05.000Z', duration_ms: 5 },
      { node: 'c', status: 'skipped', started_at: '2025-01-02T03:04:05.000Z', duration_ms: 0, detail: { reason: 'no copy' } },
    ]);
  });

  it("a failing node is recorded with its error's code and rethrown with that code and the records", async () => {
    const runner = new WorkflowRunner({ now: ticking() });
    await runner.run('ok', () => ({ output: null }));
    const failure = runner.run('bad', () => {
      throw new EngineError('out_of_memory', 'no room');
    });
    const error = await failure.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowError);
    expect(describeError(error)).toEqual({ code: 'out_of_memory', message: 'no room' });
    expect((error as WorkflowError).node).toBe('bad');
    expect((error as Error).cause).toBeInstanceOf(EngineError);
    expect(nodesOf(error)!.map((n) => [n.node, n.status, n.error_code])).toEqual([['ok', 'succeeded', undefined], ['bad', 'failed', 'out_of_memory']]);
    // a plain error is `internal`; an invalid request keeps its issues
    await expect(runner.run('boom', () => { throw new TypeError('x is undefined'); })).rejects.toMatchObject({ code: 'internal' });
    await expect(runner.run('req', () => { throw new RequestValidationError([{ field: 'prompt', message: 'is required', rule: 'required' }]); })).rejects.toMatchObject({ code: 'invalid_request', issues: [{ field: 'prompt', rule: 'required' }] });
  });

  it('a cancel inside a node is recorded cancelled; an aborted signal cancels the next node without running it', async () => {
    const signal = { aborted: false };
    const runner = new WorkflowRunner({ signal, now: ticking() });
    await expect(runner.run('gen', () => { throw new GenerationCancelledError(); })).rejects.toMatchObject({ code: 'cancelled' });
    signal.aborted = true;
    let ran = false;
    await expect(runner.run('next', () => ((ran = true), { output: 1 }))).rejects.toMatchObject({ code: 'cancelled' });
    expect(ran).toBe(false);
    expect(runner.nodes.map((n) => [n.node, n.status, n.error_code, n.duration_ms])).toEqual([['gen', 'cancelled', 'cancelled', 5], ['next', 'cancelled', 'cancelled', 0]]);
  });
});

describe('runAdWorkflow (fake SDXL, real Node overlay)', () => {
  it('prompt from Korean ad.text, txt2img, layout, export: four succeeded nodes, the final and the raw PNG', async () => {
    const seen: ResolvedRequest[] = [];
    const events: string[] = [];
    const out = await runAdWorkflow(adRequest(), deps(seen), { onProgress: (e) => events.push(e.stage) });
    expect(out.nodes.map((n) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'succeeded'], ['export', 'succeeded']]);
    for (const n of out.nodes) {
      expect(n.duration_ms).toBeGreaterThanOrEqual(0);
      expect(new Date(n.started_at).toISOString()).toBe(n.started_at);
    }
    expect(events).toEqual(['layout']);
    // the generation got the built English prompt and the style's negative prompt
    expect(seen).toHaveLength(1);
    expect(seen[0]!.prompt).toMatch(/croissant/i);
    expect(seen[0]!.prompt).not.toMatch(/[가-힣]/);
    expect(seen[0]!.negative_prompt).not.toBe('');
    expect(out.request.prompt).toBe(seen[0]!.prompt);
    expect(out.nodes[0]!.detail).toMatchObject({ source: 'ad.text', style: 'ultra_realistic', industry: 'bakery', negative_prompt: 'style', untranslated: expect.any(Array) });
    expect(out.nodes[1]!.detail).toMatchObject({ steps: 4, width: 256, height: 192, seed: 7, execution_provider: 'fake' });
    expect(out.nodes[2]!.detail).toMatchObject({ applied: true, template: 'bottom', fields: expect.arrayContaining(['headline', 'shop_name', 'badge']) });
    expect(out.nodes[3]!.detail).toMatchObject({ bytes: out.png.byteLength, raw_bytes: out.rawPng!.byteLength });
    expect(decodeRgba(out.png)).toMatchObject({ width: 256, height: 192 });
    expect(Buffer.from(out.rawPng!).equals(Buffer.from(out.png))).toBe(false);
    expect(out.generation).toEqual({ width: 256, height: 192, seed: 7, executionProvider: 'fake' });
  });

  it('a typed prompt is used as typed; no copy skips the layout and gives no raw PNG; img2img is chosen by the image', async () => {
    const seen: ResolvedRequest[] = [];
    const typed: GenerateRequest = parseGenerateRequest({ prompt: 'a croissant', negative_prompt: 'blurry', width: 64, height: 64, seed: 1, num_inference_steps: 10 });
    const out = await runAdWorkflow(typed, deps(seen));
    expect(seen[0]).toMatchObject({ prompt: 'a croissant', negative_prompt: 'blurry' });
    expect(out.nodes.map((n) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'skipped'], ['export', 'succeeded']]);
    expect(out.nodes[0]!.detail).toEqual({ source: 'request' });
    expect(out.rawPng).toBeUndefined();
    // ad.text with an own negative prompt keeps it
    await runAdWorkflow(adRequest({ negative_prompt: 'text, watermark', ad: { text: '크루아상' } }), deps(seen));
    expect(seen[1]!.negative_prompt).toBe('text, watermark');
    // a reference image makes the generation node img2img (the fake ignores the picture)
    const image = `data:image/png;base64,${Buffer.from(out.png).toString('base64')}`;
    const i2i = await runAdWorkflow({ ...typed, image, strength: 0.5 }, deps());
    expect(i2i.nodes.map((n) => n.node)).toEqual(['prompt', 'img2img', 'layout', 'export']);
    expect(i2i.nodes[1]!.detail).toMatchObject({ steps: 5, strength: 0.5 });
  });

  it('a failing generation: failed with its code, nothing after it, error rethrown; bad copy fails the layout node', async () => {
    const failing: AdWorkflowDeps<GeneratedPixels> = { ...deps(), generate: async () => { throw new EngineError('device_lost', 'the GPU went away'); } };
    const error = await runAdWorkflow(adRequest(), failing).catch((e: unknown) => e);
    expect(describeError(error).code).toBe('device_lost');
    expect(nodesOf(error)!.map((n) => [n.node, n.status, n.error_code])).toEqual([['prompt', 'succeeded', undefined], ['txt2img', 'failed', 'device_lost']]);

    // copy the request schema allows but the overlay refuses is caught by the parser; past it, the layout node says so
    const request = adRequest();
    request.ad!.copy = { headline: 'x'.repeat(61) };
    const bad = await runAdWorkflow(request, deps()).catch((e: unknown) => e);
    expect(describeError(bad)).toMatchObject({ code: 'invalid_request', issues: [{ field: 'headline' }] });
    expect(nodesOf(bad)!.map((n) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'failed']]);
  });

  it('cancel during the generation is recorded cancelled and stops the run', async () => {
    const signal = { aborted: false };
    const cancelling: AdWorkflowDeps<GeneratedPixels> = {
      ...deps(),
      generate: async () => {
        signal.aborted = true;
        throw new GenerationCancelledError();
      },
    };
    const error = await runAdWorkflow(adRequest(), cancelling, { signal }).catch((e: unknown) => e);
    expect(describeError(error).code).toBe('cancelled');
    expect(nodesOf(error)!.map((n) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'cancelled']]);
  });
});

describe('request: prompt or ad.text', () => {
  const base = { width: 64, height: 64, seed: 1 };
  const issues = (input: unknown) => {
    try {
      parseGenerateRequest(input);
    } catch (error) {
      return (error as RequestValidationError).issues;
    }
    return [];
  };

  it('needs prompt or ad.text: neither names prompt with rule required', () => {
    expect(issues(base)).toEqual([{ field: 'prompt', message: 'is required', rule: 'required' }]);
    expect(issues({ ...base, ad: { industry: 'cafe', copy: { headline: '오픈' } } })).toEqual([{ field: 'prompt', message: 'is required', rule: 'required' }]);
    expect(issues({ ...base, ad: { text: '크루아상' } })).toEqual([]);
    expect(issues({ ...base, prompt: 'a cafe' })).toEqual([]);
    expect(parseGenerateRequest({ ...base, ad: { text: '크루아상' } }).prompt).toBeUndefined();
  });

  it('names every bad ad field with its rule and limit', () => {
    expect(issues({ ...base, ad: { text: '' } })).toEqual([expect.objectContaining({ field: 'ad.text', rule: 'min_length', limit: 1 })]);
    expect(issues({ ...base, ad: { text: '   ' } })).toEqual([expect.objectContaining({ field: 'ad.text', rule: 'blank' })]);
    expect(issues({ ...base, ad: { text: 'x'.repeat(2001) } })).toEqual([expect.objectContaining({ field: 'ad.text', rule: 'max_length', limit: 2000 })]);
    expect(issues({ ...base, ad: { text: 'x', industry: 'bank' } })).toEqual([expect.objectContaining({ field: 'ad.industry', rule: 'one_of' })]);
    expect(issues({ ...base, ad: { text: 'x', copy: { headline: '가'.repeat(61) } } })).toEqual([expect.objectContaining({ field: 'ad.copy.headline', rule: 'max_length', limit: 60 })]);
    expect(issues({ ...base, ad: { text: 'x', copy: { badge: '가'.repeat(17) } } })).toEqual([expect.objectContaining({ field: 'ad.copy.badge', rule: 'max_length', limit: 16 })]);
    expect(issues({ ...base, ad: { text: 'x', copy: { template: 'left' } } })).toEqual([expect.objectContaining({ field: 'ad.copy.template', rule: 'one_of', limit: 'bottom, top, center' })]);
    expect(issues({ ...base, ad: { text: 'x', copy: { shop_name: 'a\nb' } } })).toEqual([expect.objectContaining({ field: 'ad.copy.shop_name', rule: 'pattern' })]);
    expect(issues({ ...base, ad: { text: 'x', font: 'serif' } })).toEqual([expect.objectContaining({ field: 'ad', rule: 'unknown_field', limit: 'font' })]);
    expect(issues({ ...base, ad: { text: 'x', copy: { price: 1 } } })).toEqual([expect.objectContaining({ field: 'ad.copy', rule: 'unknown_field', limit: 'price' })]);
  });
});
