import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { ModelManifest } from '../../../src/core/loading/manifest.ts';
import type { Style } from '../../../src/core/product/index.ts';
import type { FileInfo } from '../render/sessionCache.ts';
import { buildManifest, type ManifestOptions } from './manifest.ts';
import { buildTranslationManifest, isTranslationPackage } from './translation.ts';

/** Every file's path, size and modification time (dotfiles excepted): changes when the package does. */
async function packageFingerprint(root: string): Promise<string> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const parts: string[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = relative(root, join(e.parentPath, e.name));
    if (path.split(sep).some((p) => p.startsWith('.'))) continue;
    const info = await stat(join(e.parentPath, e.name));
    parts.push(`${path}:${info.size}:${info.mtimeMs}`);
  }
  return parts.sort().join('\n');
}

/** How long a listing of the models folder or of a package's files is trusted, ms (changes show within it). */
const FRESH_MS = 1000;

/** The requested model id is not in the models directory. */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  readonly code = 'unknown_model';
  constructor(readonly id: string, known: readonly string[]) {
    super(`model "${id}" is not installed on this server (installed: ${known.join(', ') || 'none'})`);
  }
}

export interface RegistryOptions {
  /** Chunk size of the manifests' per-chunk hashes, bytes. */
  chunkBytes: number;
  variantOrder?: readonly string[];
  /** Ids of packages to mark full-size whatever their size. */
  realSizeModels?: readonly string[];
  /** The package of each product style. */
  styleModels?: Readonly<Record<Style, string>>;
  /** Folder of the optional translation model (served with its manifest when it holds a Marian package). */
  translationModel?: string;
}

/**
 * The model packages in the server's models directory (one folder per id holding `model_index.json`),
 * their manifests (built once per process from the persisted hash cache), the package files by content hash
 * (two packages that share a file serve it under one address). Pipelines are loaded by the render worker.
 */
export class ModelRegistry {
  private manifests = new Map<string, Promise<ModelManifest>>();
  private readonly fingerprints = new Map<string, string>();
  /** When each package's files were last listed (performance.now() ms). */
  private readonly checkedAt = new Map<string, number>();
  private idsCache: { at: number; ids: string[] } | undefined;
  private translationCache: { at: number; present: boolean } | undefined;
  /** Per package, the models-directory-relative path of each file's content, from its current manifest. */
  private readonly bySha = new Map<string, Map<string, string>>();

  constructor(readonly modelsDir: string, readonly defaultModel: string, readonly options: RegistryOptions) {}

  /** Ids of installed packages, sorted. */
  async ids(): Promise<string[]> {
    // re-read at most every FRESH_MS: every submission resolves its model
    if (this.idsCache && performance.now() - this.idsCache.at < FRESH_MS) return this.idsCache.ids;
    const ids = await this.readIds();
    this.idsCache = { at: performance.now(), ids };
    return ids;
  }

  private async readIds(): Promise<string[]> {
    const entries = await readdir(this.modelsDir, { withFileTypes: true }).catch(() => []);
    const ids: string[] = [];
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith('.') && (await stat(join(this.modelsDir, e.name, 'model_index.json')).catch(() => null))) ids.push(e.name);
    }
    return ids.sort();
  }

  /**
   * The package that renders a request: `id` when given, else the package of `style` (see `styleModels`), else
   * the default.
   * @throws UnknownModelError when that package is not installed.
   */
  async resolve(id: string | undefined, style?: Style): Promise<string> {
    const wanted = id ?? (style ? this.options.styleModels?.[style] : undefined) ?? this.defaultModel;
    const ids = await this.ids();
    if (!ids.includes(wanted)) throw new UnknownModelError(wanted, ids);
    return wanted;
  }

  /**
   * The package's manifest, rebuilt when a file was added, removed or changed (size or modification time)
   * since it was built, so devices see an updated package without a server restart.
   * @throws UnknownModelError, or the manifest builder's error for a broken package.
   */
  async manifest(id: string): Promise<ModelManifest> {
    const resolved = id === (await this.translationModel()) ? id : await this.resolve(id);
    const fingerprint = await packageFingerprint(join(this.modelsDir, resolved));
    if (this.fingerprints.get(resolved) !== fingerprint) this.manifests.delete(resolved);
    this.fingerprints.set(resolved, fingerprint);
    this.checkedAt.set(resolved, performance.now());
    let manifest = this.manifests.get(resolved);
    if (!manifest) {
      const options: ManifestOptions = {
        chunkBytes: this.options.chunkBytes,
        variantOrder: this.options.variantOrder,
        ...(this.options.realSizeModels?.includes(resolved) ? { realSize: true } : {}),
      };
      const build = resolved === this.options.translationModel ? buildTranslationManifest(resolved, join(this.modelsDir, resolved), this.options.chunkBytes) : buildManifest(resolved, join(this.modelsDir, resolved), options);
      manifest = build.then((built) => {
        this.bySha.set(resolved, new Map(built.files.map((f) => [f.sha256, join(resolved, f.path)])));
        return built;
      });
      manifest.catch(() => this.manifests.delete(resolved));
      this.manifests.set(resolved, manifest);
    }
    return manifest;
  }

  /** The translation model's folder name when it holds a Marian package (checked at most every FRESH_MS), else undefined. */
  async translationModel(): Promise<string | undefined> {
    const name = this.options.translationModel;
    if (!name) return undefined;
    if (!this.translationCache || performance.now() - this.translationCache.at >= FRESH_MS) {
      this.translationCache = { at: performance.now(), present: await isTranslationPackage(join(this.modelsDir, name)) };
    }
    return this.translationCache.present ? name : undefined;
  }

  /**
   * The models-directory-relative path of a file with this content, from the manifests built so far (all of
   * them are built first when the hash is unknown); undefined when no package has it.
   */
  async pathForSha(sha256: string): Promise<string | undefined> {
    const find = () => [...this.bySha.values()].find((files) => files.has(sha256))?.get(sha256);
    if (!find()) await this.warmUp();
    return find();
  }

  /**
   * Builds every installed package's manifest (hashing only files that changed since the last start), so the
   * first browser visit does not wait for it. Failures surface on request.
   */
  async warmUp(): Promise<void> {
    const translation = await this.translationModel();
    await Promise.all([...(await this.ids()), ...(translation ? [translation] : [])].map((id) => this.manifest(id).catch(() => undefined)));
  }

  /** The package's files by package-relative path, with their hashes and sizes (sessions are shared by hash). */
  async files(id: string): Promise<Record<string, FileInfo>> {
    // every job asks: a manifest checked within FRESH_MS is used as it is
    const checked = this.checkedAt.get(id);
    const cached = checked !== undefined && performance.now() - checked < FRESH_MS ? this.manifests.get(id) : undefined;
    const manifest = await (cached ?? this.manifest(id));
    return Object.fromEntries(manifest.files.map((f) => [f.path, { sha256: f.sha256, bytes: f.size }]));
  }
}
