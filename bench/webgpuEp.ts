/**
 * The server's pipeline on onnxruntime-node's webgpu execution provider against cpu: generation times and the
 * pixel difference, same request and seed.
 *
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx bench/webgpuEp.ts [--export fp32|fp16] [--side 64] [--steps 4] [--runs 3] [--model <dir>]
 *
 * (VK_ICD_FILENAMES only without a GPU: SwiftShader.) `--export` picks the tiny fixture's fp32 package or an
 * fp16 export of it written to a temporary folder; `--model` runs another package instead. Each provider
 * runs one warm-up generation (shader compilation on webgpu), then `--runs` timed ones; the median is printed.
 */
import { parseArgs } from 'node:util';
import { describeError } from '../src/core/errors.ts';
import { generate, loadSdxlPipeline } from '../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../src/core/product/index.ts';
import { parseGenerateRequest } from '../src/core/request.ts';
import type { GenerateOutput } from '../src/core/types.ts';
import { DirectoryStore } from '../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../server/src/ortNodeRuntime.ts';
import { FIXTURE_DIR } from '../test/helpers/fixture.ts';
import { pixelDifference } from '../test/helpers/png.ts';
import { psnr, TempDirs, tinyExport } from '../test/helpers/variants.ts';

const { values } = parseArgs({ options: { export: { type: 'string', default: 'fp32' }, side: { type: 'string', default: '64' }, steps: { type: 'string', default: '4' }, runs: { type: 'string', default: '3' }, model: { type: 'string' } } });
const dirs = new TempDirs();
const dir = values.model ?? (values.export === 'fp32' ? FIXTURE_DIR : tinyExport(dirs, values.export as 'fp16'));
const side = Number(values.side);
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const request = parseGenerateRequest({ prompt: bakery.prompt, negative_prompt: 'low quality', width: side, height: side, seed: bakery.seed, num_inference_steps: Number(values.steps), guidance_scale: 7.5 });
const now = () => performance.now();
const out: Partial<Record<'cpu' | 'webgpu', GenerateOutput>> = {};
try {
  for (const ep of ['cpu', 'webgpu'] as const) {
    const t0 = now();
    try {
      const runtime = createNodeRuntime(ep);
      const t1 = now();
      const pipe = await loadSdxlPipeline({ store: new DirectoryStore(dir), runtime, now });
      const t2 = now();
      await generate(pipe, request, { now });
      const t3 = now();
      const ms: number[] = [];
      for (let i = 0; i < Number(values.runs); i++) {
        const s = now();
        out[ep] = await generate(pipe, request, { now });
        ms.push(now() - s);
      }
      await pipe.release();
      ms.sort((a, b) => a - b);
      const steps = out[ep]!.timings.denoiseMs / request.num_inference_steps;
      console.log(
        `${ep}: provider check ${(t1 - t0).toFixed(0)} ms, load ${(t2 - t1).toFixed(0)} ms, first generation ${(t3 - t2).toFixed(0)} ms, ` +
          `then ${ms.map((m) => m.toFixed(0)).join(', ')} ms (median ${ms[Math.floor(ms.length / 2)]!.toFixed(0)} ms; last: ${steps.toFixed(1)} ms a step, ${request.width}x${request.height})`,
      );
    } catch (error) {
      const { code, message } = describeError(error);
      console.log(`${ep}: failed, ${code}: ${message}`);
    }
  }
  if (out.cpu && out.webgpu) {
    const { max, mean } = pixelDifference(out.cpu.rgba, out.webgpu.rgba);
    let differing = 0;
    for (let i = 0; i < out.cpu.rgba.length; i++) if (i % 4 !== 3 && out.cpu.rgba[i] !== out.webgpu.rgba[i]) differing++;
    console.log(`webgpu against cpu: max ${max} levels, mean ${mean.toFixed(4)}, ${differing} of ${(out.cpu.rgba.length / 4) * 3} channel values differ, PSNR ${psnr(out.cpu.rgba, out.webgpu.rgba).toFixed(1)} dB`);
  }
} finally {
  dirs.cleanup();
}
