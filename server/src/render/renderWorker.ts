/**
 * The render worker thread: loads model packages and runs the ad workflow (`src/core/workflow`: prompt, the
 * shared SDXL pipeline on onnxruntime-node, the copy overlay with resvg-js, PNG export) one request at a time, while the main thread keeps answering HTTP. Cancel messages are read between steps
 * (each session run is awaited, so the worker's event loop turns between them).
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { describeError } from '../../../src/core/errors.ts';
import { latentsToPreviewPng } from '../../../src/core/image/latentPreview.ts';
import { LoadedSlot } from '../../../src/core/pipelines/loadedSlot.ts';
import { encodePng } from '../../../src/core/image/png.ts';
import { generateRgba, loadSdxlPipeline, type SdxlPipeline } from '../../../src/core/pipelines/sdxl/index.ts';
import { nodesOf, runAdWorkflow } from '../../../src/core/workflow/index.ts';
import { loadOverlayFonts, rasteriseWithResvgJs } from '../overlay/index.ts';
import { DirectoryStore } from '../models/directoryStore.ts';
import type { OnnxRuntime } from '../../../src/core/runtime.ts';
import type { ProgressEvent } from '../../../src/core/types.ts';
import { createNodeRuntime, type NodeExecutionProvider } from '../ortNodeRuntime.ts';
import { translationModelLoader } from '../models/translation.ts';
import { SessionCache } from './sessionCache.ts';
import type { FromWorker, RenderWorkerData, ToWorker } from './protocol.ts';

const port = parentPort!;
const data = workerData as RenderWorkerData;
const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Ids sent to run and not yet ended; a cancel for another id is ignored. */
const pending = new Set<string>();
const cancelled = new Set<string>();
let work: Promise<void> = Promise.resolve();

async function main(): Promise<void> {
  let runtime: OnnxRuntime;
  try {
    runtime = createNodeRuntime(data.executionProvider as NodeExecutionProvider);
  } catch (error) {
    send({ type: 'startup_failed', error: describeError(error) });
    return;
  }
  // one pipeline (one UNet) in use at a time; sessions of other models stay cached, by content, within the budget
  const cache = new SessionCache(runtime, data.memoryBudgetBytes);
  const loaded = new LoadedSlot<SdxlPipeline>();
  let loadedModel: string | undefined;
  const translator = translationModelLoader(data.modelsDir, data.translationModel, runtime);
  const report = () => send({ type: 'loaded', models: { loadedModel, sessions: cache.sessions(), created: { ...cache.created } } });

  async function run(id: string, message: Extract<ToWorker, { type: 'generate' }>): Promise<void> {
    const signal = { get aborted() { return cancelled.has(id); } };
    try {
      const model = message.request.model!;
      const root = join(data.modelsDir, model);
      // the model is loaded by the generation node (its time is the node's): a request the prompt node refuses loads nothing
      const pipelineFor = async () => {
        const pipeline = await loaded.get(model, () => loadSdxlPipeline({ store: new DirectoryStore(root), runtime: cache.runtimeFor(root, message.files), now: () => performance.now() }));
        if (loadedModel !== model) {
          loadedModel = model;
          report();
        }
        return pipeline;
      };
      const onProgress = (event: ProgressEvent) => send({ type: 'progress', id, event });
      const out = await runAdWorkflow(
        message.request,
        {
          generate: async (request) =>
            generateRgba(await pipelineFor(), request, {
              signal,
              now: () => performance.now(),
              onProgress,
              ...(message.previewEvery > 0
                ? { preview: { every: message.previewEvery, onLatents: (latents, step) => {
                    const png = latentsToPreviewPng(latents);
                    send({ type: 'preview', id, step, png }, [png.buffer as ArrayBuffer]);
                  } } }
                : {}),
            }),
          overlay: async () => ({ fonts: await loadOverlayFonts(), rasterise: rasteriseWithResvgJs }),
          translator: () => translator(signal),
          encodePng: (image) => encodePng(image.data, image.width, image.height),
        },
        { signal, now: () => performance.now(), onProgress },
      );
      const { png, rawPng, width, height, nodes } = out;
      const { seed, executionProvider, timings, truncated } = out.generation;
      const transfer = [png.buffer as ArrayBuffer, ...(rawPng ? [rawPng.buffer as ArrayBuffer] : [])];
      send({ type: 'result', id, output: { png, ...(rawPng ? { rawPng } : {}), width, height, seed, executionProvider, timings, truncated, nodes } }, transfer);
    } catch (error) {
      const nodes = nodesOf(error);
      send({ type: 'failed', id, error: describeError(error), ...(nodes ? { nodes } : {}) });
    } finally {
      cancelled.delete(id);
      pending.delete(id);
      report();
    }
  }

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'generate':
        pending.add(message.id);
        work = work.then(() => run(message.id, message));
        break;
      case 'cancel':
        if (pending.has(message.id)) cancelled.add(message.id);
        break;
      case 'close':
        void work.then(async () => {
          await loaded.release();
          await cache.clear();
          send({ type: 'closed' });
          port.close();
        });
        break;
    }
  });
  send({ type: 'ready', executionProvider: runtime.executionProvider });
}

void main();
