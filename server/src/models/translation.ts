/**
 * The server's optional translation model: a Marian package (opus-mt-ko-en exported by optimum) in the models
 * directory, loaded once on first use through the render worker's runtime, for the prompt node to translate
 * Korean `ad.text` with instead of the glossary; and its manifest, so devices download it as they download a
 * checkpoint (served at `/models/<id>/manifest.json`, files by content hash).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestFile, ModelManifest } from '../../../src/core/loading/manifest.ts';
import { ModelPackageError } from '../../../src/core/loading/modelPackage.ts';
import type { TextTranslator } from '../../../src/core/prompt/index.ts';
import type { OnnxRuntime } from '../../../src/core/runtime.ts';
import { MarianTranslator } from '../../../src/core/translation/marian.ts';
import type { CancelSignal } from '../../../src/core/types.ts';
import { DirectoryStore } from './directoryStore.ts';
import { packageHashes } from './fileHashes.ts';
import { listFiles } from './manifest.ts';

/**
 * A loader for the prompt node (`AdWorkflowDeps.translator`).
 * @param name folder under `modelsDir`; empty: no model.
 * @returns a function giving the translator bound to a job's cancel signal, or undefined while the folder holds no
 *   Marian package (`isTranslationPackage`, as `GET /api/models` decides; looked at on each call until one loads, so a
 *   model installed later is used without a restart). A failed load
 *   is not kept: the job fails with its error (code `model_package`, or the runtime's), the next one loads again.
 */
export function translationModelLoader(modelsDir: string, name: string, runtime: OnnxRuntime): (signal?: CancelSignal) => Promise<TextTranslator | undefined> {
  let loading: Promise<MarianTranslator> | undefined;
  const root = join(modelsDir, name);
  return async (signal) => {
    if (!name) return undefined;
    if (!loading) {
      if (!(await isTranslationPackage(root))) return undefined;
      loading = MarianTranslator.load(new DirectoryStore(root), runtime, name);
      loading.catch(() => (loading = undefined));
    }
    const model = await loading;
    return { id: model.id, translate: async (text) => (await model.translate(text, signal ? { signal } : {})).text };
  };
}

/** Whether `root` holds a Marian translation package (`config.json` with `model_type: "marian"`). */
export async function isTranslationPackage(root: string): Promise<boolean> {
  try {
    return (JSON.parse(await readFile(join(root, 'config.json'), 'utf8')) as { model_type?: string }).model_type === 'marian';
  } catch {
    return false;
  }
}

/**
 * The manifest of a translation package, in the shape devices already download SDXL packages by (files with
 * their hashes and chunk hashes, from the persisted hash cache): pipeline `MarianMTModel`, one variant (`''` root)
 * with every file, named `int8` when its encoder is a `*_quantized.onnx`, else `fp32`; no SDXL components.
 * @throws ModelPackageError when `root` is not a Marian package.
 */
export async function buildTranslationManifest(id: string, root: string, chunkBytes: number): Promise<ModelManifest> {
  if (!(await isTranslationPackage(root))) throw new ModelPackageError(`${id}: config.json is not a Marian translation model`);
  const paths = await listFiles(root);
  const files = await packageHashes(root, paths, chunkBytes);
  const bytes = (list: readonly ManifestFile[]) => list.reduce((n, f) => n + f.size, 0);
  const weightBytes = bytes(files.filter((f) => /\.onnx(_data)?$/.test(f.path)));
  const downloadBytes = [...new Map(files.map((f) => [f.sha256, f.size])).values()].reduce((n, size) => n + size, 0);
  const version = createHash('sha256');
  for (const f of files) version.update(`${f.path}\0${f.sha256}\n`);
  return {
    schema: 2,
    id,
    pipeline: 'MarianMTModel',
    nativeSide: 0,
    vaeScaleFactor: 0,
    realSize: false,
    chunkBytes,
    files,
    variants: [
      {
        name: paths.some((p) => p.endsWith('encoder_model.onnx')) ? 'fp32' : 'int8',
        root: '',
        files: paths,
        components: {},
        needs: { shaderF16: false, largestInitializerBytes: 0, weightBytes, downloadBytes, activations: [], peakMemoryBytes: { side: 0, resident: 0, sequential: 0 } },
      },
    ],
    version: version.digest('hex'),
  };
}
