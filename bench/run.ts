/**
 * `npm run bench`: times one fixture generation (the bakery prompt, 64x64, 4 steps, seed 1000) on
 * onnxruntime-node's CPU provider in-process, through the server's HTTP API, and in headless Chromium on
 * WebGPU (SwiftShader) and on WASM; counts model-file requests on a second visit; and measures the
 * browser/server pixel difference. Prints medians; compare ratios within one run (shared, noisy machines).
 */
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate, loadSdxlPipeline } from '../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../src/core/product/index.ts';
import { parseGenerateRequest } from '../src/core/request.ts';
import { DirectoryStore } from '../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../server/src/ortNodeRuntime.ts';
import { CHROMIUM_ARGS } from '../test/helpers/browser.ts';
import { FIXTURE_DIR } from '../test/helpers/fixture.ts';
import { decodeRgba, pixelDifference } from '../test/helpers/png.ts';
import { startServer } from '../test/helpers/server.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const BROWSER_RUNS = Number(process.env.BENCH_BROWSER_RUNS ?? 5);
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const request = parseGenerateRequest({ prompt: bakery.prompt, width: 64, height: 64, num_inference_steps: 4, guidance_scale: 7.5, seed: bakery.seed });

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: [string, string][] = [];
const report = (name: string, value: string) => {
  rows.push([name, value]);
  console.log(`${name.padEnd(58)} ${value}`);
};

async function nodeCpu(): Promise<Uint8Array> {
  let started = performance.now();
  const pipe = await loadSdxlPipeline({ store: new DirectoryStore(FIXTURE_DIR), runtime: createNodeRuntime('cpu') });
  report('node cpu: load pipeline (5 sessions)', `${(performance.now() - started).toFixed(0)} ms`);
  await generate(pipe, request);
  const totals: number[] = [];
  const stages: Record<string, number[]> = { encodeMs: [], denoiseMs: [], decodeMs: [] };
  let png: Uint8Array = new Uint8Array();
  for (let i = 0; i < RUNS; i++) {
    started = performance.now();
    const out = await generate(pipe, request, { now: () => performance.now() });
    totals.push(performance.now() - started);
    for (const k of Object.keys(stages)) stages[k]!.push(out.timings[k as keyof typeof out.timings]);
    png = out.png;
  }
  report(`node cpu: 64x64, 4 steps, CFG (median of ${RUNS})`, `${median(totals).toFixed(1)} ms (encode ${median(stages.encodeMs!).toFixed(1)}, denoise ${median(stages.denoiseMs!).toFixed(1)}, decode ${median(stages.decodeMs!).toFixed(1)})`);
  await pipe.release();
  return png;
}

async function launch(webgpu: boolean): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ad-studio-bench-'));
  const args = webgpu ? CHROMIUM_ARGS : CHROMIUM_ARGS.filter((a) => !a.includes('webgpu'));
  const context = await chromium.launchPersistentContext(dir, { executablePath: '/usr/bin/chromium', headless: true, args });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page, close: async () => (await context.close(), rmSync(dir, { recursive: true, force: true })) };
}

async function setForm(page: Page, preference: 'device' | 'server'): Promise<void> {
  await page.getByTestId('adapter').waitFor();
  await page.getByTestId('model-stored').waitFor();
  await page.getByTestId('prompt').fill(request.prompt ?? '');
  // the English prompt as typed (no style tags), as the server request below sends it
  await page.getByTestId('edit-prompt').click();
  await page.getByTestId('prompt-override').fill(request.prompt ?? '');
  if (!(await page.locator('details.advanced').evaluate((d) => (d as HTMLDetailsElement).open))) await page.getByTestId('advanced').click();
  await page.getByTestId('negative-prompt').fill('');
  await page.getByTestId('aspect-1:1').click();
  await page.getByTestId('steps').fill(String(request.num_inference_steps));
  await page.getByTestId('guidance').fill(String(request.guidance_scale));
  await page.getByTestId('seed').fill(String(request.seed));
  await page.getByTestId(`route-${preference}`).click();
}

/** Generates once; returns wall milliseconds (click to image), the pipeline's own time, and the PNG. */
async function generateOnce(page: Page): Promise<{ wallMs: number; pipelineMs: number; provider: string; png: Uint8Array }> {
  const before = await page.getByTestId('history-count').textContent();
  const started = performance.now();
  await page.getByTestId('generate').click();
  await page.waitForFunction((count) => document.querySelector('[data-testid=history-count]')?.textContent !== count || document.querySelector('[data-testid=notice-error]'), before, { timeout: 600_000 });
  const wallMs = performance.now() - started;
  const error = await page.getByTestId('notice-error').allTextContents();
  if (error.length) throw new Error(error.join('; '));
  const pipelineMs = Number(await page.getByTestId('result-time').getAttribute('data-ms'));
  const provider = (await page.getByTestId('result-provider').textContent()) ?? '';
  const bytes = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch(document.querySelector<HTMLAnchorElement>('[data-testid=download-png]')!.href)).arrayBuffer())));
  return { wallMs, pipelineMs, provider, png: Uint8Array.from(bytes) };
}

async function browserRuns(label: string, page: Page): Promise<Uint8Array> {
  const first = await generateOnce(page);
  report(`browser ${label}: first generation (provider ${first.provider})`, `${first.wallMs.toFixed(0)} ms wall, incl. model load`);
  const wall: number[] = [];
  const pipeline: number[] = [];
  for (let i = 0; i < BROWSER_RUNS; i++) {
    const run = await generateOnce(page);
    wall.push(run.wallMs);
    pipeline.push(run.pipelineMs);
  }
  report(`browser ${label}: 64x64, 4 steps (median of ${BROWSER_RUNS})`, `${median(pipeline).toFixed(1)} ms in the worker, ${median(wall).toFixed(0)} ms wall`);
  return first.png;
}

const server = await startServer();
try {
  console.log(`Ad Studio bench: "${request.prompt}", ${request.width}x${request.height}, ${request.num_inference_steps} steps, guidance ${request.guidance_scale}, seed ${request.seed}\n`);
  const cpuPng = await nodeCpu();

  const webgpu = await launch(true);
  try {
    await webgpu.page.goto(server.url);
    await setForm(webgpu.page, 'device');
    const before = server.requests.filter((u) => u.startsWith('/models/')).length;
    const browserPng = await browserRuns('webgpu (SwiftShader)', webgpu.page);
    report('model-file requests, first visit', String(server.requests.filter((u) => u.startsWith('/models/')).length - before));
    const mark = server.requests.filter((u) => u.startsWith('/models/')).length;
    await webgpu.page.reload();
    await setForm(webgpu.page, 'device');
    const again = await generateOnce(webgpu.page);
    report('model-file requests, second visit (reload + generate)', String(server.requests.filter((u) => u.startsWith('/models/')).length - mark));
    report('second visit generation, WebGPU (includes session creation)', `${again.wallMs.toFixed(0)} ms wall`);

    await setForm(webgpu.page, 'server');
    const serverRun = await generateOnce(webgpu.page);
    const wall: number[] = [];
    for (let i = 0; i < RUNS; i++) wall.push((await generateOnce(webgpu.page)).wallMs);
    report(`through the server from the app (median of ${RUNS})`, `${median(wall).toFixed(0)} ms wall (submit, poll from 25 ms backing off to 250 ms, download)`);
    const d1 = pixelDifference(decodeRgba(browserPng).data, decodeRgba(serverRun.png).data);
    report('browser webgpu vs server cpu, same request', `max ${d1.max} levels, mean ${d1.mean.toFixed(4)}`);
    const d2 = pixelDifference(decodeRgba(cpuPng).data, decodeRgba(serverRun.png).data);
    report('in-process cpu vs server cpu, same request', `max ${d2.max} levels, mean ${d2.mean.toFixed(4)}`);
  } finally {
    await webgpu.close();
  }

  const wasm = await launch(false);
  try {
    await wasm.page.goto(server.url);
    await setForm(wasm.page, 'device');
    console.log(`  (no WebGPU adapter here: ${await wasm.page.getByTestId('adapter').textContent()})`);
    await browserRuns('wasm', wasm.page);
  } finally {
    await wasm.close();
  }
} finally {
  await server.close();
}
