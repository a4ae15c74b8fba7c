import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderAdCopyLayers } from '../../src/core/overlay/index.ts';
import { generate, generateRgba, loadSdxlPipeline, type SdxlPipeline } from '../../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../../src/core/product/index.ts';
import { parseGenerateRequest } from '../../src/core/request.ts';
import { runAdWorkflow } from '../../src/core/workflow/index.ts';
import { DirectoryStore } from '../../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import { loadOverlayFonts, rasteriseWithResvgJs } from '../../server/src/overlay/index.ts';
import { FIXTURE_DIR } from '../helpers/fixture.ts';
import { decodeRgba } from '../helpers/png.ts';

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const copy = { shop_name: '성수 베이커리', headline: '갓 구운 크루아상\n매일 아침 7시', badge: '4,500원' };

describe('the ad workflow with the tiny SDXL pipeline (onnxruntime-node) and the Node overlay', () => {
  let pipe: SdxlPipeline;
  beforeAll(async () => {
    pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: createNodeRuntime('cpu') });
  });
  afterAll(async () => pipe?.release());

  const overlay = async () => ({ fonts: await loadOverlayFonts(), rasterise: rasteriseWithResvgJs });

  it('Korean ad.text + copy: four succeeded nodes; the raw PNG differs from the final one only under the scrim and the text', async () => {
    const request = parseGenerateRequest({ ad: { text: bakery.prompt_ko, industry: 'bakery', copy }, style: 'ultra_realistic', width: 128, height: 96, seed: bakery.seed, num_inference_steps: 3 });
    expect(request.prompt).toBeUndefined();
    const out = await runAdWorkflow(request, { generate: (resolved) => generateRgba(pipe, resolved), overlay });

    expect(out.nodes.map((n) => [n.node, n.status])).toEqual([['prompt', 'succeeded'], ['txt2img', 'succeeded'], ['layout', 'succeeded'], ['export', 'succeeded']]);
    expect(out.nodes.every((n) => n.duration_ms >= 0 && !n.error_code)).toBe(true);
    expect(out.nodes[0]!.detail).toMatchObject({ source: 'ad.text', industry: 'bakery' });
    expect(out.request.prompt).toMatch(/croissant/i);
    expect(out.nodes[1]!.detail).toMatchObject({ steps: 3, width: 128, height: 96, execution_provider: 'cpu' });

    const final = decodeRgba(out.png);
    const raw = decodeRgba(out.rawPng!);
    expect([final.width, final.height]).toEqual([128, 96]);
    expect([raw.width, raw.height]).toEqual([128, 96]);

    // the raw PNG is the pipeline's own picture for the resolved request (the workflow encodes once, from its RGBA)
    const direct = await generate(pipe, out.request);
    expect(Buffer.from(out.rawPng!).equals(Buffer.from(direct.png))).toBe(true);

    // every changed pixel lies in a scrim row or under the text layer; some do change
    const layers = (await renderAdCopyLayers(copy, { width: 128, height: 96, data: raw.data }, await overlay()))!;
    expect(Buffer.from(layers.image.data).equals(Buffer.from(final.data))).toBe(true);
    let changed = 0;
    for (let p = 0; p < 128 * 96; p++) {
      const differs = [0, 1, 2, 3].some((c) => final.data[p * 4 + c] !== raw.data[p * 4 + c]);
      if (!differs) continue;
      changed++;
      const row = Math.floor(p / 128);
      const underScrim = (layers.layout.scrim?.alpha[row] ?? 0) > 0;
      const underText = layers.overlay.data[p * 4 + 3]! > 0;
      expect(underScrim || underText).toBe(true);
    }
    expect(changed).toBeGreaterThan(0);
  });
});
