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
// the probe down, no onnxruntime-node is loaded here, and the check stays synchronous. It prints one JSON line
// last; the exit code says which ending it reached (0 ran, 3 failed).
const PROBE = `
const ort = require(process.argv[1]);
ort.env.logLevel = 'fatal';
const say = (o) => process.stdout.write('\\n' + JSON.stringify(o) + '\\n');
ort.InferenceSession.create(require('node:fs').readFileSync(0), { executionProviders: [process.argv[2]], logSeverityLevel: 4 })
  .then((s) => s.run({ x: new ort.Tensor('float32', new Float32Array([1.5, -2]), [2]) }))
  .then((r) => { const y = Array.from(r.y.data); if (y[0] !== 3 || y[1] !== -4) throw new Error('1.5 + 1.5, -2 + -2 gave ' + y); say({ ok: true }); process.exit(0); })
  .catch((e) => { say({ ok: false, message: String((e && e.message) || e) }); process.exit(3); });
`;

/** One line, at most `max` characters. */
const oneLine = (text: string, max = 400) => {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/**
 * Creates a session on `provider` for a two-element Add and runs it, in a child process.
 * @returns undefined when it ran and gave the right sums, else what went wrong (onnxruntime's message).
 */
function probe(provider: NodeExecutionProvider, timeoutMs: number): string | undefined {
  const model = writeOnnxModel('probe', {
    inputs: [{ name: 'x', type: 'float32', dims: [2] }],
    outputs: [{ name: 'y', type: 'float32', dims: [2] }],
    nodes: [{ op: 'Add', inputs: ['x', 'x'], outputs: ['y'] }],
  });
  let stdout: string;
  try {
    stdout = execFileSync(process.execPath, ['-e', PROBE, ortEntry(), provider], { input: model, encoding: 'utf8', timeout: timeoutMs, stdio: ['pipe', 'pipe', 'ignore'] });
  } catch (error) {
    const e = error as { stdout?: string; status?: number | null; signal?: string | null };
    if (e.status === 3 && e.stdout) stdout = e.stdout;
    else if (e.signal) return `the probe process ended by ${e.signal}${e.signal === 'SIGTERM' ? ` (timed out after ${timeoutMs} ms)` : ''}`;
    else return `the probe process exited with code ${e.status}`;
  }
  const last = stdout.trim().split('\n').at(-1) ?? '';
  try {
    const result = JSON.parse(last) as { ok: boolean; message?: string };
    return result.ok ? undefined : (result.message ?? 'unknown failure');
  } catch {
    return `the probe printed no result (${oneLine(last, 100)})`;
  }
}

/** What to do when `provider` is absent or found no device. */
function remedy(provider: 'webgpu' | 'cuda'): string {
  if (provider === 'cuda') return 'a CUDA host needs the NVIDIA driver and the CUDA 12 and cuDNN 9 libraries on its library path (README, "CUDA")';
  const icd = swiftShaderIcd();
  const software = process.env.VK_ICD_FILENAMES
    ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES} is set: is that driver there and working?)`
    : icd
      ? `; a software adapter, far slower than cpu and meant for tests, is VK_ICD_FILENAMES=${icd}`
      : '';
  return `install libvulkan1 and the GPU's Vulkan driver${software} (README, "WebGPU")`;
}

/**
 * Checks that onnxruntime-node can create and run a session on `provider` here. `cpu` always can. For
 * `webgpu` and `cuda` it runs a one-node model on that provider in a child process (about 0.2 s on
 * SwiftShader; up to a few seconds where a GPU driver initialises).
 * @param options.timeoutMs how long the probe may take before the provider counts as unusable (default 60 s).
 * @throws EngineError `execution_provider_unavailable`, its message one line saying what is missing and what
 *   to install: `cuda` without onnxruntime-node's CUDA provider library, or with it but unable to run (no
 *   driver, CUDA or cuDNN libraries); `webgpu` with no Vulkan adapter that runs the session.
 * @throws RangeError for a provider other than cpu, webgpu and cuda.
 */
export function checkExecutionProvider(provider: NodeExecutionProvider, options: { timeoutMs?: number } = {}): void {
  if (!(NODE_EXECUTION_PROVIDERS as readonly string[]).includes(provider)) throw new RangeError(`unknown execution provider "${provider}" (cpu, webgpu or cuda)`);
  if (provider === 'cpu') return;
  if (provider === 'cuda' && !existsSync(cudaProviderLibrary())) {
    throw new EngineError(
      'execution_provider_unavailable',
      `ORT_EXECUTION_PROVIDER=cuda: onnxruntime-node's CUDA provider is not installed (no ${cudaProviderLibrary()}); on a CUDA 12 host install it with "ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install" (README, "CUDA")`,
    );
  }
  const failure = probe(provider, options.timeoutMs ?? 60_000);
  if (failure === undefined) return;
  const what = provider === 'webgpu' ? 'no WebGPU adapter could run a session' : 'the CUDA provider could not run a session';
  throw new EngineError('execution_provider_unavailable', `ORT_EXECUTION_PROVIDER=${provider}: ${what}; ${remedy(provider)}. onnxruntime said: ${oneLine(failure)}`);
}
