/**
 * Whether onnxruntime-node can run on an execution provider here, checked without loading onnxruntime-node
 * into this thread: the server's main thread checks `ORT_EXECUTION_PROVIDER` before it opens the job database
 * (a provider that cannot run must not fail queued jobs), and `createNodeRuntime` checks again where sessions
 * are made (the render worker).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { EngineError } from '../../src/core/errors.ts';
import { writeOnnxModel } from '../../src/core/onnx/modelWriter.ts';

/** The execution providers the server can be asked for. */
export const NODE_EXECUTION_PROVIDERS = ['cpu', 'webgpu', 'cuda'] as const;
export type NodeExecutionProvider = (typeof NODE_EXECUTION_PROVIDERS)[number];

const ortEntry = () => createRequire(import.meta.url).resolve('onnxruntime-node');

/** Where onnxruntime-node's install script puts the CUDA provider library (absent unless installed). */
export function cudaProviderLibrary(): string {
  return join(dirname(dirname(ortEntry())), 'bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
}

/**
 * Debian's SwiftShader Vulkan driver (a software GPU, in the chromium package), when installed: the path to
 * give `VK_ICD_FILENAMES` for the webgpu provider on a machine with no GPU (tests; far slower than `cpu`).
 * The server never picks it by itself.
 */
export function swiftShaderIcd(): string | undefined {
  return ['/usr/lib/chromium/vk_swiftshader_icd.json'].find((p) => existsSync(p));
}

// The probe runs in a child process: a Vulkan driver that crashes while Dawn looks for an adapter takes only
// the probe down, no onnxruntime-node is loaded here, and the check stays synchronous. It runs a float32 Add,
// then (the provider works) a float16 Add, which onnxruntime's WebGPU EP runs only on an adapter with
// shader-f16. It prints one JSON line last; the exit code says which ending it reached (0 ran, 3 failed).
const PROBE = `
const ort = require(process.argv[1]);
ort.env.logLevel = 'fatal';
const say = (o) => process.stdout.write('\\n' + JSON.stringify(o) + '\\n');
const models = require('node:fs').readFileSync(0);
const [f32, f16] = [models.subarray(0, Number(process.argv[3])), models.subarray(Number(process.argv[3]))];
const add = async (model, type, x) => {
  const s = await ort.InferenceSession.create(model, { executionProviders: [process.argv[2]], logSeverityLevel: 4 });
  try { return Array.from((await s.run({ x: new ort.Tensor(type, x, [2]) })).y.data); } finally { await s.release(); }
};
add(f32, 'float32', new Float32Array([1.5, -2]))
  .then((y) => { if (y[0] !== 3 || y[1] !== -4) throw new Error('1.5 + 1.5, -2 + -2 gave ' + y); })
  .then(() => add(f16, 'float16', new Uint16Array([0x3e00, 0xc000])).then((y) => y[0] === 0x4200 && y[1] === 0xc400, () => false))
  .then((float16) => { say({ ok: true, float16 }); process.exit(0); })
  .catch((e) => { say({ ok: false, message: String((e && e.message) || e) }); process.exit(3); });
`;

/** One line, at most `max` characters. */
const oneLine = (text: string, max = 400) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * Runs the probe for `provider` in a child process.
 * @returns `{ float16 }` when the float32 Add ran and gave the right sums (`float16`: the float16 Add did too),
 *   else `{ failure }` with what went wrong (onnxruntime's message, or how the probe process ended).
 */
function probe(provider: NodeExecutionProvider, timeoutMs: number, env: NodeJS.ProcessEnv): { float16: boolean } | { failure: string } {
  const add = (type: 'float32' | 'float16') =>
    writeOnnxModel('probe', { inputs: [{ name: 'x', type, dims: [2] }], outputs: [{ name: 'y', type, dims: [2] }], nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }] });
  const f32 = add('float32');
  const input = new Uint8Array([...f32, ...add('float16')]);
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ['-e', PROBE, ortEntry(), provider, String(f32.length)], { input, env, encoding: 'utf8', timeout: timeoutMs, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch (error) {
    const e = error as { stdout?: string; status?: number | null; signal?: string | null };
    if (e.status === 3 && e.stdout) stdout = e.stdout;
    else if (e.signal) return { failure: `the probe process ended by ${e.signal}${e.signal === 'SIGTERM' ? ` (timed out after ${timeoutMs} ms)` : ''}` };
    else return { failure: `the probe process exited with code ${e.status}` };
  }
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const result = JSON.parse(last) as { ok: boolean; float16?: boolean; message?: string };
    return result.ok ? { float16: result.float16 === true } : { failure: result.message ?? 'unknown failure' };
  } catch {
    return { failure: `the probe printed no result (${oneLine(last, 100)})` };
  }
}

/** What to do when `provider` is absent or found no device. */
function remedy(provider: 'webgpu' | 'cuda', env: NodeJS.ProcessEnv): string {
  if (provider === 'cuda') return 'a CUDA host needs the NVIDIA driver and the CUDA 12 and cuDNN 9 libraries on its library path (README, "CUDA")';
  const icd = swiftShaderIcd();
  const software = env.VK_ICD_FILENAMES
    ? ` (VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES} is set: is that driver there and working?)`
    : icd
      ? `; a software adapter, far slower than cpu and meant for tests, is VK_ICD_FILENAMES=${icd}`
      : '';
  return `install libvulkan1 and the GPU's Vulkan driver${software} (README, "WebGPU")`;
}

/** What a provider that passed `checkExecutionProvider` can run. */
export interface ProviderCheck {
  provider: NodeExecutionProvider;
  /**
   * Whether it runs float16 operators. False on a WebGPU adapter without shader-f16 (SwiftShader; some
   * GPUs), where onnxruntime's WebGPU EP fails on any float16 tensor: fp16 checkpoints cannot run there.
   */
  float16: boolean;
}

/**
 * Checks that onnxruntime-node can create and run a session on `provider` here. `cpu` always can. For
 * `webgpu` and `cuda` it runs a float32 Add and a float16 Add on that provider in a child process (about
 * 0.3 s on SwiftShader; longer where a GPU driver initialises).
 * @param options.timeoutMs how long the probe may take before the provider counts as unusable (default 60 s).
 * @param options.env the probe's environment (default `process.env`; `VK_ICD_FILENAMES` there picks the Vulkan driver).
 * @returns the provider and whether it runs float16.
 * @throws EngineError `execution_provider_unavailable`, its message one line saying what is missing and what
 *   to install: `cuda` without onnxruntime-node's CUDA provider library, or with it but unable to run (no
 *   driver, CUDA or cuDNN libraries); `webgpu` with no Vulkan adapter that runs the session.
 * @throws RangeError for a provider other than cpu, webgpu and cuda.
 */
export function checkExecutionProvider(provider: NodeExecutionProvider, options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): ProviderCheck {
  if (!(NODE_EXECUTION_PROVIDERS as readonly string[]).includes(provider)) throw new RangeError(`unknown execution provider "${provider}" (cpu, webgpu or cuda)`);
  if (provider === 'cpu') return { provider, float16: true };
  if (provider === 'cuda' && !existsSync(cudaProviderLibrary())) {
    throw new EngineError(
      'execution_provider_unavailable',
      `ORT_EXECUTION_PROVIDER=cuda: onnxruntime-node's CUDA provider is not installed (no ${cudaProviderLibrary()}); on a CUDA 12 host install it with "ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install" (README, "CUDA")`,
    );
  }
  const env = options.env ?? process.env;
  const result = probe(provider, options.timeoutMs ?? 60_000, env);
  if ('float16' in result) return { provider, float16: result.float16 };
  const what = provider === 'webgpu' ? 'no WebGPU adapter could run a session' : 'the CUDA provider could not run a session';
  throw new EngineError('execution_provider_unavailable', `ORT_EXECUTION_PROVIDER=${provider}: ${what}; ${remedy(provider, env)}. onnxruntime said: ${oneLine(result.failure)}`);
}
