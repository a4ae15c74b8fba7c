/**
 * The server's ONNX runtime: the only importer of onnxruntime-node. CUDA when asked for and present
 * (onnxruntime-node's CUDA provider is installed separately, see README), CPU otherwise.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OnnxRuntime, OnnxSession, SessionSource, ValueInfo } from '../../src/core/runtime.ts';
import type { Tensor } from '../../src/core/tensor.ts';

export type NodeExecutionProvider = 'cpu' | 'cuda';

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
      return { type: t.type, data: t.data, dims: [...t.dims] } as Tensor;
    default:
      throw new TypeError(`unexpected output type ${t.type}`);
  }
}

/**
 * Execution providers onnxruntime-node can load here. CUDA needs `libonnxruntime_providers_cuda.so`, which
 * onnxruntime-node's install script downloads only when asked (see README, "CUDA"); CPU is always there.
 */
export function availableProviders(): NodeExecutionProvider[] {
  const packageDir = dirname(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')));
  const cuda = join(packageDir, 'bin/napi-v6', process.platform, process.arch, 'libonnxruntime_providers_cuda.so');
  return existsSync(cuda) ? ['cuda', 'cpu'] : ['cpu'];
}

/**
 * @param provider 'cuda' falls back to 'cpu' when onnxruntime-node has no CUDA provider installed; the
 *   runtime's `executionProvider` says which one sessions use.
 */
export function createNodeRuntime(provider: NodeExecutionProvider = 'cpu'): OnnxRuntime {
  const executionProvider = availableProviders().includes(provider) ? provider : 'cpu';
  return {
    executionProvider,
    async createSession(source: SessionSource): Promise<OnnxSession> {
      const path = source.store.localPath?.(source.modelPath);
      const options: ort.InferenceSession.SessionOptions = { executionProviders: [executionProvider], graphOptimizationLevel: 'all' };
      // onnxruntime-node finds model.onnx_data beside model.onnx when loading by path.
      const session = path
        ? await ort.InferenceSession.create(path, options)
        : await ort.InferenceSession.create(await source.store.readBytes(source.modelPath), options);
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
