import { readJson, type FileStore } from '../../loading/fileStore.ts';
import { OPTIONAL_COMPONENTS, readSdxlPackage, SDXL_COMPONENTS, type SdxlComponent, type SdxlPackage } from '../../loading/modelPackage.ts';
import type { OnnxRuntime, OnnxSession } from '../../runtime.ts';
import { ClipTokenizer, parseMerges, tokenizerOptions } from '../../tokenizers/clipTokenizer.ts';
import type { ProgressEvent } from '../../types.ts';
import { checkSessionContract } from './contract.ts';

/** A loaded SDXL package: configs, both tokenizers and one session per component. */
export interface SdxlPipeline {
  readonly package: SdxlPackage;
  readonly tokenizer: ClipTokenizer;
  readonly tokenizer2: ClipTokenizer;
  /** One session per component; `vae_encoder` only when the package has one (image-to-image). */
  readonly sessions: Readonly<Record<(typeof SDXL_COMPONENTS)[number], OnnxSession> & Partial<Record<SdxlComponent, OnnxSession>>>;
  readonly executionProvider: string;
  /** Releases every session (GPU buffers in the browser). */
  release(): Promise<void>;
}

/** Reads `tokenizer_config.json` (or `special_tokens_map.json`) for the pad token and max length. */
async function tokenizerConfig(store: FileStore, folder: string): Promise<Record<string, unknown>> {
  const merged: Record<string, unknown> = {};
  for (const file of ['special_tokens_map.json', 'tokenizer_config.json']) {
    const path = `${folder}/${file}`;
    if (await store.exists(path)) Object.assign(merged, await readJson<Record<string, unknown>>(store, path));
  }
  return merged;
}

/** Builds a CLIP tokenizer from `<folder>/vocab.json` and `<folder>/merges.txt`. */
export async function loadClipTokenizer(store: FileStore, folder: string): Promise<ClipTokenizer> {
  const [vocab, merges, config] = await Promise.all([
    readJson<Record<string, number>>(store, `${folder}/vocab.json`),
    store.readText(`${folder}/merges.txt`),
    tokenizerConfig(store, folder),
  ]);
  return new ClipTokenizer(vocab, parseMerges(merges), tokenizerOptions(config));
}

/**
 * Loads an SDXL package from `store` into sessions of `runtime`, checking each component against the
 * SDXL export contract.
 * @throws ModelPackageError / ModelFileMissingError for a bad package, ModelContractError for a graph
 *   that does not match SDXL, TokenizerFileError for bad tokenizer files, or the runtime's own error.
 */
export async function loadSdxlPipeline(options: {
  store: FileStore;
  runtime: OnnxRuntime;
  onProgress?: (event: ProgressEvent) => void;
}): Promise<SdxlPipeline> {
  const { store, runtime, onProgress } = options;
  const pkg = await readSdxlPackage(store);
  const [tokenizer, tokenizer2] = await Promise.all([loadClipTokenizer(store, 'tokenizer'), loadClipTokenizer(store, 'tokenizer_2')]);
  const sessions: Partial<Record<SdxlComponent, OnnxSession>> = {};
  const components: SdxlComponent[] = [...SDXL_COMPONENTS, ...OPTIONAL_COMPONENTS.filter((c) => pkg.components[c])];
  try {
    for (const [index, component] of components.entries()) {
      onProgress?.({ stage: 'load', component, index, total: components.length });
      const session = await runtime.createSession({ component, store, ...pkg.components[component]! });
      sessions[component] = session;
      checkSessionContract(component, session);
    }
  } catch (error) {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    throw error;
  }
  const loaded = sessions as SdxlPipeline['sessions'];
  return {
    package: pkg,
    tokenizer,
    tokenizer2,
    sessions: loaded,
    executionProvider: runtime.executionProvider,
    release: async () => {
      await Promise.all(Object.values(loaded).map((s) => s.release()));
    },
  };
}
