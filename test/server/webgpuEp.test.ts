/**
 * The server on onnxruntime-node's WebGPU execution provider (Dawn over Vulkan), on Debian's SwiftShader
 * Vulkan driver (from the chromium package) since test machines have no GPU: a real child server generates
 * with the tiny fixture, reports `webgpu`, and its image is within a few levels of the CPU server's. An fp16
 * checkpoint on an adapter without shader-f16 fails with its code. Execution providers that cannot run here
 * (cuda without its provider library, webgpu without a Vulkan driver) stop the server at startup with one
 * line and exit code 1, before the job database is opened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AD_CASES } from '../../src/core/product/index.ts';
import { checkExecutionProvider, cudaProviderLibrary, swiftShaderIcd } from '../../server/src/executionProvider.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';
import { FIXTURE_DIR, FIXTURE_ID, ROOT } from '../helpers/fixture.ts';
import { decodeRgba, pixelDifference } from '../helpers/png.ts';
import { startServer } from '../helpers/server.ts';
import { psnr, TempDirs, tinyExport } from '../helpers/variants.ts';
import { freePort } from '../helpers/ports.ts';

const dirs = new TempDirs();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  dirs.cleanup();
});

/**
 * Largest difference allowed between a WebGPU and a CPU image of the tiny fixture, in 8-bit levels (RGB).
 * Measured on SwiftShader (64x64, guidance 7.5): at most 1 level at 2 steps (PSNR 75.4 dB) and at 4 steps (13 of
 * 12,288 channel values, PSNR 77.9 dB); 3 leaves room for a GPU's float math, as the browser-against-server bound does.
 */
const MAX_LEVELS = 3;

/** `server/src/main.ts` in a child process with `env` added; its stderr is collected. */
function spawnServer(env: Record<string, string>): { proc: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  let stderr = '';
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(proc);
  proc.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, stderr: () => stderr, exited };
}

/** Waits until the child server on `port` answers /api/health; throws with its stderr when it exits first. */
async function waitHealthy(child: ReturnType<typeof spawnServer>, port: number): Promise<{ execution_provider: string }> {
  for (let i = 0; i < 600; i++) {
    if (child.proc.exitCode !== null) throw new Error(`server exited with ${child.proc.exitCode}: ${child.stderr()}`);
    const health = await fetch(`http://127.0.0.1:${port}/api/health`).then((r) => (r.ok ? r.json() : undefined), () => undefined);
    if (health) return health;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not start: ${child.stderr()}`);
}

async function generateOn(base: string, body: object): Promise<Record<string, any>> {
  const response = await fetch(`${base}/api/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(202);
  const { id } = await response.json();
  for (let i = 0; i < 2400; i++) {
    const job = await (await fetch(`${base}/api/generations/${id}`)).json();
    if (!['queued', 'running'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not end in 120 s`);
}

const bakery = AD_CASES.find((c) => c.id === 'bakery')!;
const request = { prompt: bakery.prompt, negative_prompt: 'low quality', width: 64, height: 64, seed: bakery.seed, num_inference_steps: 2, guidance_scale: 7.5 };
const icd = swiftShaderIcd();

const noIcd = icd ? '' : ' (skipped: no SwiftShader Vulkan driver, /usr/lib/chromium/vk_swiftshader_icd.json; apt-get install chromium, as .ci/run does)';

describe.skipIf(!icd)(`server on the webgpu execution provider (SwiftShader Vulkan)${noIcd}`, () => {
  it('generates the tiny fixture on webgpu within a few levels of the cpu server; an fp16 checkpoint without shader-f16 fails with its code', async () => {
    const modelsDir = dirs.make('ad-studio-webgpu-models-');
    cpSync(FIXTURE_DIR, join(modelsDir, FIXTURE_ID), { recursive: true });
    cpSync(tinyExport(dirs, 'fp16'), join(modelsDir, 'tiny-fp16'), { recursive: true });
    const dataDir = dirs.make('ad-studio-webgpu-data-');
    const port = await freePort();
    const env = { ORT_EXECUTION_PROVIDER: 'webgpu', VK_ICD_FILENAMES: icd!, XDG_RUNTIME_DIR: dirs.make('ad-studio-xdg-'), PORT: String(port), MODELS_DIR: modelsDir, DATA_DIR: dataDir, STATIC_DIR: join(dataDir, 'no-app') };
    const child = spawnServer(env);
    const health = await waitHealthy(child, port);
    expect(health.execution_provider).toBe('webgpu');

    const base = `http://127.0.0.1:${port}`;
    const started = performance.now();
    const job = await generateOn(base, request);
    const webgpuMs = performance.now() - started;
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.execution_provider).toBe('webgpu');
    const webgpu = decodeRgba(new Uint8Array(await (await fetch(`${base}${job.image_url}`)).arrayBuffer()));

    const cpuServer = await startServer({ modelsDir, executionProvider: 'cpu' });
    try {
      const cpuJob = await generateOn(cpuServer.url, request);
      expect(cpuJob.status).toBe('succeeded');
      expect(cpuJob.result.execution_provider).toBe('cpu');
      const cpu = decodeRgba(new Uint8Array(await (await fetch(`${cpuServer.url}${cpuJob.image_url}`)).arrayBuffer()));
      expect([webgpu.width, webgpu.height]).toEqual([cpu.width, cpu.height]);
      const diff = pixelDifference(webgpu.data, cpu.data);
      console.log(`webgpu (SwiftShader) against cpu, 64x64, 2 steps: max ${diff.max} levels, mean ${diff.mean.toFixed(4)}, PSNR ${psnr(webgpu.data, cpu.data).toFixed(1)} dB; webgpu job ${webgpuMs.toFixed(0)} ms (timings ${JSON.stringify(job.result.timings)})`);
      expect(diff.max).toBeLessThanOrEqual(MAX_LEVELS);
    } finally {
      await cpuServer.close();
    }

    // the fp16 export (float16 weights and activations, as the full-size checkpoints)
    const fp16 = await generateOn(base, { ...request, model: 'tiny-fp16' });
    if (checkExecutionProvider('webgpu', { env: { ...process.env, ...env } }).float16) {
      expect(fp16.status, JSON.stringify(fp16.error)).toBe('succeeded');
      expect(fp16.result.execution_provider).toBe('webgpu');
    } else {
      // SwiftShader has no shader-f16: refused before onnxruntime loads the model, with a code and what to do
      expect(fp16).toMatchObject({ status: 'failed', error: { code: 'unsupported_operator' } });
      expect(fp16.error.message).toMatch(/float16 tensors and this WebGPU adapter has no shader-f16/);
    }
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 240_000);
});

describe('execution providers that cannot run here stop the server at startup', () => {
  /** Starts the server with `env` and expects exit code 1, one line on stderr, and no job database. */
  async function refused(env: Record<string, string>): Promise<string> {
    const dataDir = dirs.make('ad-studio-refused-');
    const child = spawnServer({ PORT: String(await freePort()), DATA_DIR: join(dataDir, 'data'), ...env });
    expect(await child.exited).toBe(1);
    const lines = child.stderr().split('\n').filter(Boolean);
    expect(lines, child.stderr()).toHaveLength(1);
    expect(existsSync(join(dataDir, 'data', 'jobs.sqlite'))).toBe(false);
    return lines[0]!;
  }

  const cudaInstalled = existsSync(cudaProviderLibrary());
  it.skipIf(cudaInstalled)(`cuda without onnxruntime-node's CUDA provider library: one line naming the install command, code execution_provider_unavailable${cudaInstalled ? ' (skipped: the CUDA provider is installed here)' : ''}`, async () => {
    const line = await refused({ ORT_EXECUTION_PROVIDER: 'cuda' });
    expect(line).toContain('ORT_EXECUTION_PROVIDER=cuda');
    expect(line).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install');
    expect(line).toMatch(/\[execution_provider_unavailable\]$/);
    expect(() => createNodeRuntime('cuda')).toThrow(expect.objectContaining({ code: 'execution_provider_unavailable' }));
  });

  it('webgpu with no Vulkan driver (VK_ICD_FILENAMES naming none): one line, code execution_provider_unavailable', async () => {
    const missing = join(tmpdir(), 'no-such-vulkan-icd.json');
    const line = await refused({ ORT_EXECUTION_PROVIDER: 'webgpu', VK_ICD_FILENAMES: missing });
    expect(line).toContain('ORT_EXECUTION_PROVIDER=webgpu: no WebGPU adapter could run a session');
    expect(line).toContain(`VK_ICD_FILENAMES=${missing} is set`);
    expect(line).toMatch(/\[execution_provider_unavailable\]$/);
    expect(() => checkExecutionProvider('webgpu', { env: { ...process.env, VK_ICD_FILENAMES: missing } })).toThrow(expect.objectContaining({ code: 'execution_provider_unavailable' }));
  });

  it('an unknown provider is refused the same way', async () => {
    expect(await refused({ ORT_EXECUTION_PROVIDER: 'tpu' })).toBe('ad-studio: ORT_EXECUTION_PROVIDER must be cpu, webgpu, cuda, got "tpu"');
  });
});
