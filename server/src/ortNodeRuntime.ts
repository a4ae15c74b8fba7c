/**
 * The server's ONNX runtime: the only importer of onnxruntime-node. Sessions run on the execution provider
 * asked for (`ORT_EXECUTION_PROVIDER`): `cpu`, `webgpu` (Dawn over Vulkan, built into onnxruntime-node's Linux
 * x64 binary) or `cuda` (a provider library installed separately, see README "CUDA"). One that cannot run here
 * is an error with code `execution_provider_unavailable` when the runtime is created, never a silent fall back
 * to another.
 */
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { OnnxRuntime, OnnxSession, SessionSource, ValueInfo } from '../../src/core/runtime.ts';
import type { Tensor } from '../../src/core/tensor.ts';
import { EngineError } from '../../src/core/errors.ts';
import { checkExecutionProvider, cudaProviderLibrary, type NodeExecutionProvider } from './executionProvider.ts';
import { scanOnnx } from './models/onnxScan.ts';

export type { NodeExecutionProvider } from './executionProvider.ts';

function valueInfo(meta: readonly ort.InferenceSession.ValueMetadata[]): ValueInfo[] {
  return meta.map((m) => (m.isTensor ? { name: m.name, type: m.type, shape: m.shape } : { name: m.name, type: 'non-tensor', shape: [] }));
}

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.type, t.data, [...t.dims]);
}

function fromOrt(t: ort.Tensor): Tensor {
  switch (t.type) {
    case 'float32':
    case 'float16':
    case 'int32':
    case 'int64':
    case 'bool':
      return { type: t.type, data: t.data, dims: [...t.dims] } as Tensor;
    default:
      throw new TypeError(`unexpected output type ${t.type}`);
  }
}

/**
 * Execution providers onnxruntime-node can load here: `cpu` always; `webgpu` where the binary has it built in
 * (Linux x64, Windows, macOS), whether or not a WebGPU adapter exists (`checkExecutionProvider` and
 * `createNodeRuntime` find that out); `cuda` when `libonnxruntime_providers_cuda.so` is installed
 * (onnxruntime-node's install script downloads it only when asked, see README "CUDA").
 */
export function availableProviders(): NodeExecutionProvider[] {
  const built = new Set(ort.listSupportedBackends().filter((b) => b.bundled).map((b) => b.name));
  const out: NodeExecutionProvider[] = [];
  if (existsSync(cudaProviderLibrary())) out.push('cuda');
  if (built.has('webgpu')) out.push('webgpu');
  out.push('cpu');
  return out;
}

/**
 * The server's OnnxRuntime on `provider`. For `webgpu` and `cuda` it first runs `checkExecutionProvider` (a
 * float32 and a float16 Add on that provider in a child process, about 0.3 s on SwiftShader), so a missing
 * adapter or library fails here and not in the first job. Sessions never fall back to another provider
 * (onnxruntime still places a few shape operators on the CPU, as it does with every provider).
 * @param provider `cpu`, `webgpu` or `cuda`; the runtime's `executionProvider` is always this one.
 * @param options.probeTimeoutMs how long the check may take before the provider counts as unusable (default 60 s).
 * @throws EngineError `execution_provider_unavailable` (one line saying what to install) when `provider`
 *   cannot run a session here; RangeError for a provider name other than those three. Its `createSession`
 *   throws EngineError `unsupported_operator` for a model with float16 tensors on a WebGPU adapter without
 *   shader-f16 (checked from the model file before onnxruntime loads it).
 */
export function createNodeRuntime(provider: NodeExecutionProvider = 'cpu', options: { probeTimeoutMs?: number } = {}): OnnxRuntime {
  const { float16 } = checkExecutionProvider(provider, options.probeTimeoutMs !== undefined ? { timeoutMs: options.probeTimeoutMs } : {});
  const executionProvider = provider;
  return {
    executionProvider,
    async createSession(source: SessionSource): Promise<OnnxSession> {
      const path = source.store.localPath?.(source.modelPath);
      if (!float16 && path && (await scanOnnx(path)).float16) {
        throw new EngineError(
          'unsupported_operator',
          `${source.modelPath} has float16 tensors and this WebGPU adapter has no shader-f16 (SwiftShader has none): run an fp32 export here, a GPU whose Vulkan driver has shaderFloat16, or ORT_EXECUTION_PROVIDER=cpu`,
        );
      }
      const sessionOptions: ort.InferenceSession.SessionOptions = { executionProviders: [executionProvider], graphOptimizationLevel: 'all' };
      // onnxruntime-node finds model.onnx_data beside model.onnx when loading by path.
      const session = path
        ? await ort.InferenceSession.create(path, sessionOptions)
        : await ort.InferenceSession.create(await source.store.readBytes(source.modelPath), sessionOptions);
      return {
        inputs: valueInfo(session.inputMetadata),
        outputs: valueInfo(session.outputMetadata),
        async run(feeds, outputNames) {
          const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, toOrt(v)]));
          const result = outputNames ? await session.run(ortFeeds, [...outputNames]) : await session.run(ortFeeds);
          return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, fromOrt(v as ort.Tensor)]));
        },
        release: () => session.release(),
      };
    },
  };
}
