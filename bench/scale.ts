/**
 * `npm run bench:scale`: real-size SDXL figures, in one run (not part of `npm test`).
 *
 * 1. The full-size fixture (`npm run fixtures -- --config sdxl-base`, an optimum fp16 export with random
 *    weights) and its q4f16, q4f32, q8 and fp32 variants (`npm run convert`), made on demand in `.bench/` and
 *    reused while their sources are unchanged; the size of each component of each variant.
 * 2. onnxruntime-node CPU: one UNet step at 512x512 (batch 2, classifier-free guidance) for q4f32, q8 and fp32,
 *    and a whole q4f32 generation's pipeline overhead (time outside session runs).
 * 3. Headless Chromium, WASM (no adapter), through the app's own storage, runtime and pipeline modules:
 *    IndexedDB write and read throughput, the q4f32 download into IndexedDB, a raw read of the stored bytes
 *    against a warm start (sessions created from IndexedDB), peak JS heap of the worker while downloading and
 *    while creating sessions (Chrome DevTools Protocol `Runtime.getHeapUsage`: V8 heap plus ArrayBuffer
 *    backing stores, the wasm heap excluded) against the largest shard, and a full-size q4f32 generation at
 *    256x256, 1 step, guidance 0, with its pipeline overhead.
 * 4. On a host with an NVIDIA GPU: the full-size UNet step at 1024x1024 for fp16 and q4f16 on onnxruntime-node's
 *    WebGPU execution provider (Dawn over Vulkan), the closest stand-in for a browser on a real GPU.
 *
 * Prints one line per figure; the last line is one JSON object with every figure, named.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { chromium, type Page } from 'playwright-core';
import { readSdxlPackage } from '../src/core/loading/modelPackage.ts';
import { generate, loadSdxlPipeline } from '../src/core/pipelines/sdxl/index.ts';
import { AD_CASES } from '../src/core/product/index.ts';
import { parseGenerateRequest } from '../src/core/request.ts';
import { pipelineOverhead, type StageTimings } from '../src/core/types.ts';
import { castFloat, float32, intTensor, type Tensor, type TensorType } from '../src/core/tensor.ts';
import type { OnnxSession } from '../src/core/runtime.ts';
import { convertPackage } from '../server/src/models/convert/convertPackage.ts';
import type { VariantName } from '../server/src/models/convert/variants.ts';
import { DirectoryStore } from '../server/src/models/directoryStore.ts';
import { createNodeRuntime } from '../server/src/ortNodeRuntime.ts';
import { CHROMIUM_ARGS } from '../test/helpers/browser.ts';
import { ROOT } from '../test/helpers/fixture.ts';
import { startServer } from '../test/helpers/server.ts';
import type { BenchApi } from './browser/bench.worker.ts';

const BENCH = join(ROOT, '.bench');
const EXPORT = join(BENCH, 'sdxl-base');
const VARIANTS: VariantName[] = ['q4f16', 'q4f32', 'q8', 'fp32'];
const COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'];
const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const figures: Record<string, unknown> = {};
const MB = 1e6;

const line = (name: string, value: string) => console.log(`${name.padEnd(64)} ${value}`);
const mb = (bytes: number) => `${(bytes / MB).toFixed(1)} MB`;
const tsx = (args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, stdio: 'inherit' });

/** Hash of the files that shape a variant: the converter's sources and the export's generator stamp. */
function converterStamp(): string {
  const hash = createHash('sha256').update(readFileSync(join(EXPORT, '.generator-sha256')));
  const dir = join(ROOT, 'server/src/models/convert');
  for (const f of readdirSync(dir).sort()) hash.update(f).update(readFileSync(join(dir, f)));
  return hash.digest('hex');
}

function variantDir(name: VariantName): string {
  const dir = join(BENCH, 'variants', name);
  const stampPath = join(dir, '.converted');
  const stamp = converterStamp();
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return dir;
  rmSync(dir, { recursive: true, force: true });
  const report = convertPackage(EXPORT, name, dir);
  writeFileSync(stampPath, stamp);
  line(`convert ${name}`, `${mb(report.totalBytes)} in ${report.seconds.toFixed(0)} s`);
  return dir;
}

/** Bytes of each component (model.onnx and its external data) of a package folder. */
function componentSizes(dir: string): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const c of COMPONENTS) {
    if (!existsSync(join(dir, c))) continue;
    sizes[c] = readdirSync(join(dir, c)).filter((f) => f.startsWith('model.onnx')).reduce((n, f) => n + statSync(join(dir, c, f)).size, 0);
  }
  sizes['total'] = Object.values(sizes).reduce((a, b) => a + b, 0);
  return sizes;
}

/** UNet feeds at `size` pixels, batch 2 (guidance) unless told, in the graph's declared types and ranks. */
function unetFeeds(session: OnnxSession, size: number, batch = 2): Record<string, Tensor> {
  const type = (name: string) => session.inputs.find((i) => i.name === name)!;
  const latent = size / 8;
  const floats = (name: string, dims: number[], fill: (i: number) => number) => castFloat(float32(Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)), dims), type(name).type as TensorType);
  const t = type('timestep');
  const steps = t.shape.length ? [batch] : [];
  const timestep = t.type === 'int64' ? intTensor(new Array(steps[0] ?? 1).fill(500), steps, 'int64') : castFloat(float32(new Float32Array(steps[0] ?? 1).fill(500), steps), t.type as TensorType);
  return {
    sample: floats('sample', [batch, 4, latent, latent], (i) => Math.sin(i * 0.01)),
    timestep,
    encoder_hidden_states: floats('encoder_hidden_states', [batch, 77, 2048], (i) => Math.cos(i * 0.001)),
    text_embeds: floats('text_embeds', [batch, 1280], (i) => Math.sin(i * 0.1)),
    time_ids: floats('time_ids', [batch, 6], (i) => [size, size, 0, 0, size, size][i % 6]!),
  };
}

async function nodeUnetStep(name: VariantName, dir: string): Promise<{ createMs: number; stepMs: number }> {
  const store = new DirectoryStore(dir);
  const pkg = await readSdxlPackage(store);
  const runtime = createNodeRuntime('cpu');
  let t = performance.now();
  const session = await runtime.createSession({ component: 'unet', store, ...pkg.components.unet });
  const createMs = performance.now() - t;
  try {
    const feeds = unetFeeds(session, 512);
    await session.run(feeds, ['out_sample']);
    t = performance.now();
    await session.run(feeds, ['out_sample']);
    const stepMs = performance.now() - t;
    line(`node cpu: ${name} UNet step at 512x512 (batch 2)`, `${(stepMs / 1000).toFixed(1)} s (session created in ${(createMs / 1000).toFixed(1)} s)`);
    return { createMs, stepMs };
  } finally {
    await session.release();
  }
}

async function nodePipeline(dir: string): Promise<{ totalMs: number; runMs: number; overhead: number }> {
  const pipe = await loadSdxlPipeline({ store: new DirectoryStore(dir), runtime: createNodeRuntime('cpu'), now: () => performance.now() });
  try {
    const request = parseGenerateRequest({ prompt: bakery.prompt, width: 256, height: 256, num_inference_steps: 2, guidance_scale: 7.5, seed: bakery.seed });
    const out = await generate(pipe, request, { now: () => performance.now() });
    const overhead = pipelineOverhead(out.timings);
    line('node cpu: q4f32 generation 256x256, 2 steps, CFG', `${(out.timings.totalMs / 1000).toFixed(1)} s, outside session runs ${(100 * overhead).toFixed(2)}%`);
    return { totalMs: out.timings.totalMs, runMs: out.timings.runMs, overhead };
  } finally {
    await pipe.release();
  }
}

/** Hard-links the export and two browser variants into a models folder for the server. */
function modelsFolder(): string {
  const root = join(BENCH, 'models');
  const pkg = join(root, 'sdxl-base');
  const link = (from: string, to: string) => {
    for (const e of readdirSync(from, { recursive: true, withFileTypes: true })) {
      if (!e.isFile() || e.name.startsWith('.')) continue;
      const path = relative(from, join(e.parentPath, e.name));
      if (path.split(sep).some((p) => p.startsWith('.'))) continue;
      const target = join(to, path);
      mkdirSync(dirname(target), { recursive: true });
      if (existsSync(target) && statSync(target).ino === statSync(join(e.parentPath, e.name)).ino) continue;
      rmSync(target, { force: true });
      linkSync(join(e.parentPath, e.name), target);
    }
  };
  link(EXPORT, pkg);
  for (const name of ['q4f16', 'q4f32'] as const) link(variantDir(name), join(pkg, 'variants', name));
  return root;
}

/** Samples the bench worker's JS heap (V8 heap + ArrayBuffer backing stores) every 25 ms while `phase` is set. */
async function heapSampler(page: Page): Promise<{ phase: (name: string | undefined) => void; peaks: Record<string, number>; stop: () => void }> {
  const cdp = await page.context().newCDPSession(page);
  const peaks: Record<string, number> = {};
  let current: string | undefined;
  let worker: string | undefined;
  let id = 0;
  const pending = new Map<number, (r: { usedSize: number; backingStorageSize: number }) => void>();
  cdp.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker' && e.targetInfo.url.includes('bench.worker')) worker = e.sessionId;
  });
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const message = JSON.parse(e.message) as { id?: number; result?: { usedSize: number; backingStorageSize: number } };
    if (message.id !== undefined && message.result) pending.get(message.id)?.(message.result);
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  const timer = setInterval(() => {
    if (!current || !worker) return;
    const phase = current;
    const i = ++id;
    pending.set(i, (r) => {
      pending.delete(i);
      peaks[phase] = Math.max(peaks[phase] ?? 0, r.usedSize + r.backingStorageSize);
    });
    void cdp.send('Target.sendMessageToTarget', { sessionId: worker, message: JSON.stringify({ id: i, method: 'Runtime.getHeapUsage' }) }).catch(() => undefined);
  }, 25);
  return { phase: (name) => (current = name), peaks, stop: () => clearInterval(timer) };
}

async function browserFigures(modelsDir: string): Promise<void> {
  execFileSync(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'bench/browser/vite.config.ts'], { cwd: ROOT, stdio: 'inherit' });
  const server = await startServer({ modelsDir, staticDir: join(BENCH, 'dist') });
  const userDataDir = mkdtempSync(join(tmpdir(), 'ad-studio-scale-'));
  const context = await chromium.launchPersistentContext(userDataDir, { executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS.filter((a) => !a.includes('webgpu')) });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const heap = await heapSampler(page);
    await page.goto(server.url);
    await page.waitForFunction(() => 'bench' in window);
    const call = <K extends keyof BenchApi>(method: K, ...args: Parameters<BenchApi[K]>) =>
      page.evaluate(([m, a]) => (window as unknown as { bench: Record<string, (...x: unknown[]) => Promise<unknown>> }).bench[m as string]!(...(a as unknown[])), [method, args] as const) as ReturnType<BenchApi[K]>;

    const manifest = await server.services.models.manifest('sdxl-base');
    const q4f32 = manifest.variants.find((v) => v.name === 'q4f32')!;
    const largestShard = Math.max(...q4f32.files.map((p) => manifest.files.find((f) => f.path === p)!.size));
    line('q4f32: largest file (shard)', mb(largestShard));

    const idb = await call('idbThroughput', 1024);
    line('IndexedDB, 1 GiB as 16 MiB ArrayBuffers: write', `${idb.writeMBps.toFixed(0)} MB/s`);
    line('IndexedDB, 1 GiB as 16 MiB ArrayBuffers: read', `${idb.readMBps.toFixed(0)} MB/s`);

    heap.phase('download');
    const download = await call('download', 'sdxl-base', 'q4f32');
    heap.phase(undefined);
    line('download q4f32 into IndexedDB (loopback, SHA-256 per chunk and file)', `${mb(download.bytes)} in ${(download.ms / 1000).toFixed(1)} s (${(download.bytes / 1e3 / download.ms).toFixed(0)} MB/s)`);
    const raw = await call('rawRead', 'sdxl-base', 'q4f32');
    line('raw read of the stored q4f32 bytes from IndexedDB', `${(raw.ms / 1000).toFixed(1)} s (${(raw.bytes / 1e3 / raw.ms).toFixed(0)} MB/s)`);

    heap.phase('sessions');
    const warm = await call('warmStart', 'sdxl-base', 'q4f32', 'wasm');
    heap.phase(undefined);
    line(`warm start: q4f32 sessions from IndexedDB, WASM (${warm.build} build)`, `${(warm.ms / 1000).toFixed(1)} s (${Object.entries(warm.perComponent).map(([c, t]) => `${c} ${(t / 1000).toFixed(1)}`).join(', ')})`);
    line('warm start against the raw read of the same bytes', `${(warm.ms / raw.ms).toFixed(1)}x`);

    heap.phase('generate');
    const request = { prompt: bakery.prompt, width: 256, height: 256, num_inference_steps: 1, guidance_scale: 0, seed: bakery.seed };
    const gen = await call('generate', 'sdxl-base', 'q4f32', 'wasm', request, 'sequential');
    heap.phase(undefined);
    heap.stop();
    const overhead = pipelineOverhead(gen.timings as unknown as StageTimings);
    line('full-size q4f32 generation in Chromium, WASM, 256x256, 1 step, guidance 0', `${(gen.totalMs / 1000).toFixed(1)} s (encode ${(gen.timings['encodeMs']! / 1000).toFixed(1)}, denoise ${(gen.timings['denoiseMs']! / 1000).toFixed(1)}, decode ${(gen.timings['decodeMs']! / 1000).toFixed(1)} s)`);
    line('  of which creating sessions (sequential residency)', `${(gen.timings['loadMs']! / 1000).toFixed(1)} s`);
    line('  pipeline overhead (outside session runs and creation)', `${(100 * overhead).toFixed(2)}%`);
    for (const [phase, bytes] of Object.entries(heap.peaks)) line(`peak JS heap of the worker while ${phase === 'sessions' ? 'creating sessions' : phase === 'download' ? 'downloading' : 'generating'}`, `${mb(bytes)} (largest shard ${mb(largestShard)})`);

    Object.assign(figures, {
      largestShardBytes: largestShard,
      idbWriteMBps: Math.round(idb.writeMBps),
      idbReadMBps: Math.round(idb.readMBps),
      downloadMs: Math.round(download.ms),
      downloadBytes: download.bytes,
      rawReadMs: Math.round(raw.ms),
      warmStartMs: Math.round(warm.ms),
      warmStartPerComponentMs: Object.fromEntries(Object.entries(warm.perComponent).map(([c, t]) => [c, Math.round(t)])),
      warmStartOverRawRead: Number((warm.ms / raw.ms).toFixed(2)),
      ortWebBuild: warm.build,
      peakJsHeapDownloadingBytes: heap.peaks['download'] ?? null,
      peakJsHeapCreatingSessionsBytes: heap.peaks['sessions'] ?? null,
      peakJsHeapGeneratingBytes: heap.peaks['generate'] ?? null,
      browserWasmQ4f32Generation256: { totalMs: Math.round(gen.totalMs), loadMs: Math.round(gen.loadMs), timings: Object.fromEntries(Object.entries(gen.timings).map(([k, v]) => [k, Math.round(v)])) },
      browserPipelineOverhead: Number(overhead.toFixed(4)),
    });
  } finally {
    await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
    await server.close();
  }
}

/** Ops whose outputs carry the activations (shape arithmetic excluded). */
const ACTIVATION_OPS = new Set(['Conv', 'MatMul', 'Gemm', 'Add', 'Mul', 'Sub', 'Div', 'Softmax', 'LayerNormalization', 'InstanceNormalization', 'Sigmoid', 'Erf', 'Concat']);

/**
 * Headroom for fp16: the largest |value| of every activation of the full-size fp32 UNet at `size` pixels (batch 1,
 * a unit-variance sample), from one run of a copy of the graph that also reduces each activation to its max |x|.
 * The probes feed one running maximum whose chain the graph's output depends on, so onnxruntime's depth-first
 * execution order (inputs of larger node index first) runs each probe right after its activation and frees the
 * activation as in the plain graph; as independent outputs, the probes would run last and pin every activation
 * (over 24 GB). fp16 holds up to 65504; an activation above it would be Inf in an fp16 run.
 */
async function fp16Headroom(size = 1024): Promise<{ largest: number; where: string; activations: number; next: string[] }> {
  const onnxProto = (await import('onnx-proto')).default;
  const { onnx } = onnxProto;
  const dir = join(variantDir('fp32'), 'unet');
  const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
  const g = model.graph!;
  // the float activations: outputs of compute ops on float data (shape arithmetic is int64)
  const float = new Set<string>([...g.input!.filter((i) => i.type?.tensorType?.elemType === 1).map((i) => i.name!), ...g.initializer!.filter((i) => i.dataType === 1).map((i) => i.name!)]);
  const sites: { value: string; node: string }[] = [];
  for (const node of g.node!) {
    const op = node.opType!;
    const to = Number(node.attribute?.find((a) => a.name === 'to')?.i ?? 0);
    const isFloat = op === 'Cast' ? to === 1 : !['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero', 'Greater', 'Less', 'Equal', 'Not', 'And', 'Or'].includes(op) && float.has(node.input![op === 'Where' ? 1 : 0]!);
    if (!isFloat) continue;
    for (const out of node.output!) float.add(out);
    if (ACTIVATION_OPS.has(op)) sites.push({ value: node.output![0]!, node: node.name! });
  }
  const keep = [{ name: 'keepdims', type: 2, i: 0 }];
  sites.forEach((site, i) => {
    // max |x| = max(max x, -min x): two reductions, no full-size temporary
    g.node!.push(
      { opType: 'ReduceMax', input: [site.value], output: [`probe_max_${i}`], name: `probe_max_${i}`, attribute: keep },
      { opType: 'ReduceMin', input: [site.value], output: [`probe_min_${i}`], name: `probe_min_${i}`, attribute: keep },
      { opType: 'Neg', input: [`probe_min_${i}`], output: [`probe_neg_${i}`], name: `probe_neg_${i}` },
      { opType: 'Max', input: [`probe_max_${i}`, `probe_neg_${i}`], output: [`probe_${i}`], name: `probe_${i}` },
    );
    g.output!.push({ name: `probe_${i}`, type: { tensorType: { elemType: 1, shape: { dim: [] } } } });
  });
  // the running maximum, appended after every probe so each link has a larger index than the next probe
  sites.forEach((_, i) => {
    if (i > 0) g.node!.push({ opType: 'Max', input: [i === 1 ? 'probe_0' : `running_${i - 1}`, `probe_${i}`], output: [`running_${i}`], name: `running_${i}` });
  });
  const last = `running_${sites.length - 1}`;
  // out_sample + 0 * running max: the output's producer depends on the chain
  const outName = g.output![0]!.name!;
  const producer = g.node!.find((n) => n.output!.includes(outName))!;
  producer.output = producer.output!.map((o) => (o === outName ? `${outName}_unprobed` : o));
  g.initializer!.push({ name: 'probe_zero', dims: [], dataType: 1, rawData: new Uint8Array(4) });
  g.node!.push(
    { opType: 'Mul', input: [last, 'probe_zero'], output: ['probe_nothing'], name: 'probe_nothing' },
    { opType: 'Add', input: [`${outName}_unprobed`, 'probe_nothing'], output: [outName], name: 'probe_output' },
  );
  const probePath = join(dir, 'probe.onnx');
  writeFileSync(probePath, onnx.ModelProto.encode(model).finish());
  const started = performance.now();
  try {
    const session = await ort.InferenceSession.create(probePath, { graphOptimizationLevel: 'basic' });
    try {
      const wrapped = { inputs: session.inputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] })) } as unknown as OnnxSession;
      const feeds = Object.fromEntries(Object.entries(unetFeeds(wrapped, size, 1)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, [...v.dims])]));
      const out = await session.run(feeds, [outName, ...sites.map((_, i) => `probe_${i}`)]);
      const values = sites.map((site, i) => ({ value: (out[`probe_${i}`]!.data as Float32Array)[0]!, where: site.node }));
      // NaN sorts first: a non-finite activation is the headline
      values.sort((a, b) => (Number.isNaN(a.value) ? -1 : Number.isNaN(b.value) ? 1 : b.value - a.value));
      const best = { largest: values[0]!.value, where: values[0]!.where, activations: sites.length, next: values.slice(1, 4).map((v) => `${v.value.toFixed(1)} at ${v.where}`) };
      line(`fp16 headroom: largest |activation| of the full-size UNet at ${size}x${size} (fp32 run)`, `${best.largest.toFixed(1)} at ${best.where}, then ${best.next.join(', ')} (fp16 max 65504; all ${sites.length} activations, ${((performance.now() - started) / 1000).toFixed(0)} s)`);
      return best;
    } finally {
      await session.release();
    }
  } finally {
    rmSync(probePath, { force: true });
  }
}

/** The fp16 and q4f16 UNet at 1024x1024 on onnxruntime-node's WebGPU EP, where an NVIDIA GPU is present. */
async function nvidiaFigures(): Promise<void> {
  let gpu: string;
  try {
    gpu = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8' }).trim();
  } catch {
    line('onnxruntime-node WebGPU EP on an NVIDIA GPU', 'skipped: no NVIDIA GPU on this host');
    figures['nvidiaWebgpu'] = { skipped: 'no NVIDIA GPU on this host' };
    return;
  }
  const results: Record<string, number> = {};
  for (const [name, dir] of [['fp16', EXPORT], ['q4f16', variantDir('q4f16')]] as const) {
    const store = new DirectoryStore(dir);
    const pkg = await readSdxlPackage(store);
    const session = await ort.InferenceSession.create(store.localPath(pkg.components.unet.modelPath), { executionProviders: ['webgpu'] });
    const wrapped = { inputs: session.inputMetadata.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] })) } as unknown as OnnxSession;
    const feeds = Object.fromEntries(Object.entries(unetFeeds(wrapped, 1024)).map(([k, v]) => [k, new ort.Tensor(v.type, v.data, [...v.dims])]));
    await session.run(feeds);
    const t = performance.now();
    await session.run(feeds);
    results[name] = performance.now() - t;
    line(`webgpu EP (${gpu.split('\n')[0]}): ${name} UNet step at 1024x1024 (batch 2)`, `${results[name]!.toFixed(0)} ms`);
    await session.release();
  }
  figures['nvidiaWebgpu'] = { gpu, unetStepMs1024: results };
}

/** Parts of the bench; `npm run bench:scale -- --only headroom,browser` runs some (the full run prints every figure). */
const PARTS = ['sizes', 'node', 'headroom', 'browser', 'nvidia'] as const;
const only = parseArgs({ options: { only: { type: 'string' } } }).values.only?.split(',');
for (const part of only ?? []) if (!(PARTS as readonly string[]).includes(part)) throw new RangeError(`--only takes ${PARTS.join(', ')}, got "${part}"`);
const run = (part: (typeof PARTS)[number]) => !only || only.includes(part);

const started = performance.now();
mkdirSync(BENCH, { recursive: true });
tsx(['scripts/fixtures.ts', '--config', 'sdxl-base', '--out', EXPORT]);
if (run('sizes')) {
  const sizes: Record<string, Record<string, number>> = { fp16: componentSizes(EXPORT) };
  for (const name of VARIANTS) sizes[name] = componentSizes(variantDir(name));
  for (const [variant, s] of Object.entries(sizes)) line(`${variant}: component sizes`, Object.entries(s).map(([c, b]) => `${c} ${mb(b)}`).join(', '));
  figures['componentBytes'] = sizes;
}
if (run('node')) {
  const nodeSteps: Record<string, { createMs: number; stepMs: number }> = {};
  for (const name of ['q4f32', 'q8', 'fp32'] as const) nodeSteps[name] = await nodeUnetStep(name, variantDir(name));
  figures['nodeCpuUnetStep512Ms'] = Object.fromEntries(Object.entries(nodeSteps).map(([k, v]) => [k, Math.round(v.stepMs)]));
  figures['nodeCpuUnetSessionCreateMs'] = Object.fromEntries(Object.entries(nodeSteps).map(([k, v]) => [k, Math.round(v.createMs)]));
  const nodeOverhead = await nodePipeline(variantDir('q4f32'));
  figures['nodePipelineOverhead'] = Number(nodeOverhead.overhead.toFixed(4));
}
if (run('headroom')) figures['fp16HeadroomUnet1024'] = await fp16Headroom();
if (run('browser')) await browserFigures(modelsFolder());
if (run('nvidia')) await nvidiaFigures();
figures['seconds'] = Math.round((performance.now() - started) / 1000);
console.log(JSON.stringify(figures));
