import type { OnnxRuntime, OnnxSession } from '../../src/core/runtime.ts';
import type { Tensor } from '../../src/core/tensor.ts';
import { createNodeRuntime } from '../../server/src/ortNodeRuntime.ts';

/** One session run: which component, what went in, what came out. */
export interface RecordedCall {
  component: string;
  feeds: Record<string, Tensor>;
  outputs: Record<string, Tensor>;
}

/** onnxruntime-node (CPU), recording every run of every session into `calls`. */
export function recordingRuntime(calls: RecordedCall[]): OnnxRuntime {
  const inner = createNodeRuntime('cpu');
  return {
    executionProvider: inner.executionProvider,
    async createSession(source) {
      const session = await inner.createSession(source);
      const wrapped: OnnxSession = {
        inputs: session.inputs,
        outputs: session.outputs,
        async run(feeds, outputNames) {
          const outputs = await session.run(feeds, outputNames);
          calls.push({ component: source.component, feeds, outputs });
          return outputs;
        },
        release: () => session.release(),
      };
      return wrapped;
    },
  };
}
