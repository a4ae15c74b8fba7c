import { readJson, type FileStore } from '../../loading/fileStore.ts';
import { OPTIONAL_COMPONENTS, readSdxlPackage, SDXL_COMPONENTS, type SdxlComponent, type SdxlPackage } from '../../loading/modelPackage.ts';
import type { Residency } from '../../capabilities.ts';
import type { OnnxRuntime, OnnxSession } from '../../runtime.ts';
import { ClipTokenizer, parseMerges, tokenizerOptions } from '../../tokenizers/clipTokenizer.ts';
import type { ProgressEvent } from '../../types.ts';
import { checkSessionContract } from './contract.ts';

/** A loaded SDXL package: configs, both tokenizers, and its components' sessions, created when needed. */
export interface SdxlPipeline {
  readonly package: SdxlPackage;
  readonly tokenizer: ClipTokenizer;
  readonly tokenizer2: ClipTokenizer;
  readonly executionProvider: string;
  /**
   * `resident`: every session is created at load and kept. `sequential`: sessions are created when first
   * needed; the text encoders are released before the denoising loop, the VAE is created after it and released
   * after decoding, and the UNet stays for the next generation. The first generation never holds the UNet and
   * the text encoders together; later ones hold the UNet plus one phase's components.
   */
  readonly residency: Residency;
  /** Whether the package has `component` (the VAE encoder is optional). */
  has(component: SdxlComponent): boolean;
  /**
   * The session of `component`, created (and checked against the SDXL contract) on first use.
   * @throws ModelContractError, or the runtime's coded error.
   */
  session(component: SdxlComponent): Promise<OnnxSession>;
  /** Releases the sessions of `components` if `residency` is sequential (no-op when resident). */
  afterPhase(components: readonly SdxlComponent[]): Promise<void>;
  /**
   * A float32 VAE decoder to decode again with when this one gives NaN or Inf (an fp16 VAE overflowing);
   * undefined when the package has none.
   */
  readonly fp32VaeDecoder?: () => Promise<OnnxSession>;
  /** Milliseconds spent inside session runs since the pipeline loaded. */
  runMs(): number;
  /** Milliseconds spent creating sessions since the pipeline loaded (inside generations when `sequential`). */
  loadMs(): number;
  /** The runtime's device, where tensors can stay between runs (WebGPU); absent on host-only runtimes. */
  readonly device?: OnnxRuntime['device'];
  /**
   * A session of a graph the pipeline builds itself (the device denoising step), created on the device once
   * per `key` and kept with the pipeline. @throws when the runtime has no device.
   */
  auxiliarySession(key: string, build: () => Uint8Array): Promise<OnnxSession>;
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
 * Loads an SDXL package from `store` for `runtime`: configs and tokenizers, then, when `residency` is
 * `resident` (the default), every session; `sequential` creates each one when the pipeline first needs it.
 * Sessions are checked against the SDXL export contract as they are created.
 * @param options.fp32VaeStore a package whose `vae_decoder` computes in float32, to retry a decode that gave
 *   NaN or Inf (for a variant whose VAE is fp16).
 * @throws ModelPackageError / ModelFileMissingError for a bad package, ModelContractError for a graph
 *   that does not match SDXL, TokenizerFileError for bad tokenizer files, or the runtime's coded error.
 */
export async function loadSdxlPipeline(options: {
  store: FileStore;
  runtime: OnnxRuntime;
  residency?: Residency;
  fp32VaeStore?: FileStore;
  onProgress?: (event: ProgressEvent) => void;
  /** Clock in milliseconds for `runMs` (defaults to `Date.now`). */
  now?: () => number;
}): Promise<SdxlPipeline> {
  const { store, runtime, onProgress } = options;
  const now = options.now ?? Date.now;
  let runMs = 0;
  let loadMs = 0;
  const residency = options.residency ?? 'resident';
  const pkg = await readSdxlPackage(store);
  const [tokenizer, tokenizer2] = await Promise.all([loadClipTokenizer(store, 'tokenizer'), loadClipTokenizer(store, 'tokenizer_2')]);
  const available: SdxlComponent[] = [...SDXL_COMPONENTS, ...OPTIONAL_COMPONENTS.filter((c) => pkg.components[c])];
  const sessions = new Map<SdxlComponent, Promise<OnnxSession>>();

  const create = async (component: SdxlComponent, from: FileStore, files: { modelPath: string; externalData: string[] }): Promise<OnnxSession> => {
    onProgress?.({ stage: 'load', component, index: available.indexOf(component), total: available.length });
    const started = now();
    const session = await runtime.createSession({ component, store: from, ...files }).finally(() => (loadMs += now() - started));
    try {
      checkSessionContract(component, session);
    } catch (error) {
      await session.release();
      throw error;
    }
    return timed(session);
  };
  /** The session with its runs counted in `runMs`. */
  const timed = (session: OnnxSession): OnnxSession => {
    const clock = async <T>(work: () => Promise<T>): Promise<T> => {
      const started = now();
      try {
        return await work();
      } finally {
        runMs += now() - started;
      }
    };
    const runOnDevice = session.runOnDevice?.bind(session);
    return {
      inputs: session.inputs,
      outputs: session.outputs,
      run: (feeds, outputNames) => clock(() => session.run(feeds, outputNames)),
      ...(runOnDevice ? { runOnDevice: (feeds: Parameters<typeof runOnDevice>[0], outputNames: readonly string[]) => clock(() => runOnDevice(feeds, outputNames)) } : {}),
      release: () => session.release(),
    };
  };
  const auxiliary = new Map<string, Promise<OnnxSession>>();
  const session = (component: SdxlComponent): Promise<OnnxSession> => {
    let pending = sessions.get(component);
    if (!pending) {
      const files = pkg.components[component];
      if (!files) return Promise.reject(new RangeError(`the package has no ${component}`));
      pending = create(component, store, files);
      sessions.set(component, pending);
      pending.catch(() => sessions.delete(component));
    }
    return pending;
  };
  const releaseAll = async () => {
    const all = [...sessions.values()];
    sessions.clear();
    await Promise.all(all.map(async (s) => (await s.catch(() => undefined))?.release()));
  };

  let fp32Vae: Promise<OnnxSession> | undefined;
  const fp32VaeStore = options.fp32VaeStore;
  const fp32VaeDecoder = fp32VaeStore
    ? () => {
        fp32Vae ??= readSdxlPackage(fp32VaeStore).then((other) => create('vae_decoder', fp32VaeStore, other.components.vae_decoder));
        fp32Vae.catch(() => (fp32Vae = undefined));
        return fp32Vae;
      }
    : undefined;

  try {
    if (residency === 'resident') for (const component of available) await session(component);
  } catch (error) {
    await releaseAll();
    throw error;
  }
  return {
    package: pkg,
    tokenizer,
    tokenizer2,
    executionProvider: runtime.executionProvider,
    residency,
    has: (component) => Boolean(pkg.components[component]),
    session,
    async afterPhase(components) {
      if (residency !== 'sequential') return;
      for (const c of components) {
        const s = sessions.get(c);
        sessions.delete(c);
        await (await s?.catch(() => undefined))?.release();
      }
    },
    ...(fp32VaeDecoder ? { fp32VaeDecoder } : {}),
    runMs: () => runMs,
    loadMs: () => loadMs,
    ...(runtime.device ? { device: runtime.device } : {}),
    auxiliarySession(key, build) {
      let pending = auxiliary.get(key);
      if (!pending) {
        if (!runtime.device) return Promise.reject(new RangeError(`${runtime.executionProvider} has no device for the pipeline's own graphs`));
        pending = runtime.device.createSessionFromModel(key, build()).then(timed);
        auxiliary.set(key, pending);
        pending.catch(() => auxiliary.delete(key));
      }
      return pending;
    },
    release: async () => {
      await releaseAll();
      const own = [...auxiliary.values()];
      auxiliary.clear();
      await Promise.all(own.map(async (s) => (await s.catch(() => undefined))?.release()));
      const extra = fp32Vae;
      fp32Vae = undefined;
      await (await extra?.catch(() => undefined))?.release();
    },
  };
}
