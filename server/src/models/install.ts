/**
 * Registers an SDXL export (a folder, or a URL serving the optimum layout such as a Hugging Face repository's
 * `resolve/main/`) as a model package of the server, with browser variants converted from it. Files are
 * content-addressed: each distinct file is stored once in `<models>/.blobs/<sha256>` and hard-linked into
 * every package that has it (the style checkpoints share their VAE), and the hash cache is written as files
 * are imported, so the manifest is built without reading them again.
 */
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ModelManifest } from '../../../src/core/loading/manifest.ts';
import { convertPackage } from './convert/convertPackage.ts';
import type { VariantName } from './convert/variants.ts';
import { CACHE_FILE, hashFile } from './fileHashes.ts';
import { buildManifest } from './manifest.ts';

/** A model id the request schema accepts (`model`: lowercase letters, digits, `.`, `_`, `-`). */
const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export interface AddOptions {
  modelsDir: string;
  /** Package id; the source folder's name by default. */
  id?: string;
  variants: readonly VariantName[];
  chunkBytes: number;
  variantOrder?: readonly string[];
  /** Replace a package of the same id. */
  replace?: boolean;
  log?: (line: string) => void;
}

/** Files of a folder, package-relative with `/`, skipping dotfiles. */
async function filesOf(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((p) => !p.split('/').some((part) => part.startsWith('.')))
    .sort();
}

/** Paths of an SDXL export in the optimum layout, required first; `model.onnx_data_N` shards are probed. */
const REQUIRED = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer_2/vocab.json',
  'tokenizer_2/merges.txt',
  ...['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder'].flatMap((c) => [`${c}/config.json`, `${c}/model.onnx`]),
];
const OPTIONAL = [
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  'tokenizer_2/tokenizer_config.json',
  'tokenizer_2/special_tokens_map.json',
  'vae_encoder/config.json',
  'vae_encoder/model.onnx',
];
const COMPONENTS = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder'];

/**
 * Downloads an export from `baseUrl` into `dir`: the required files (an error names the first one missing),
 * the optional ones that exist, and each component's external data (`model.onnx_data`, `_1`, ...).
 * @throws Error naming the URL and HTTP status of a required file.
 */
async function downloadExport(baseUrl: string, dir: string, log: (line: string) => void): Promise<void> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const fetchTo = async (path: string, required: boolean): Promise<boolean> => {
    const response = await fetch(new URL(path, base));
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      if (required) throw new Error(`${new URL(path, base)}: HTTP ${response.status} (an SDXL export in the optimum layout has this file)`);
      return false;
    }
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await pipeline(Readable.fromWeb(response.body as never), createWriteStream(join(dir, path)));
    log(`  downloaded ${path}`);
    return true;
  };
  for (const path of REQUIRED) await fetchTo(path, true);
  for (const path of OPTIONAL) await fetchTo(path, false);
  for (const component of COMPONENTS) {
    for (let i = 0; await stat(join(dir, component, 'model.onnx')).catch(() => null); i++) {
      if (!(await fetchTo(`${component}/model.onnx_data${i ? `_${i}` : ''}`, false))) break;
    }
  }
}

/**
 * Moves (or copies) every file of `from` into the blob store and hard-links it at the same path under `to`;
 * returns hash-cache entries for the package-relative paths under `prefix`.
 */
async function importFiles(from: string, to: string, prefix: string, blobs: string, chunkBytes: number, move: boolean): Promise<Record<string, { size: number; mtimeMs: number; sha256: string; chunks: string[] }>> {
  const cache: Record<string, { size: number; mtimeMs: number; sha256: string; chunks: string[] }> = {};
  for (const path of await filesOf(from)) {
    const source = join(from, path);
    const { sha256, chunks } = await hashFile(source, chunkBytes);
    const blob = join(blobs, sha256);
    if (!(await stat(blob).catch(() => null))) {
      if (move) await rename(source, blob).catch(() => copyFile(source, blob));
      else await copyFile(source, blob);
    }
    const target = join(to, path);
    await mkdir(dirname(target), { recursive: true });
    await link(blob, target).catch(() => copyFile(blob, target));
    const info = await stat(target);
    cache[prefix ? `${prefix}/${path}` : path] = { size: info.size, mtimeMs: info.mtimeMs, sha256, chunks };
  }
  return cache;
}

/**
 * Adds the export at `source` (a folder or an http(s) URL) to `options.modelsDir` as package `id`, converted
 * into `options.variants`, and returns its manifest.
 * @throws RangeError for an id the API would refuse or a package that exists (without `replace`); Error for a
 *   source that is not an SDXL export.
 */
export async function addModel(source: string, options: AddOptions): Promise<ModelManifest> {
  const log = options.log ?? (() => undefined);
  const isUrl = /^https?:\/\//.test(source);
  const id = options.id ?? basename(isUrl ? new URL(source).pathname.replace(/\/(resolve\/[^/]+\/?)?$/, '') : source).toLowerCase();
  if (!ID.test(id)) throw new RangeError(`--id must match ${ID} (lowercase letters, digits, ".", "_", "-"), got "${id}"`);
  const packageDir = join(options.modelsDir, id);
  if ((await stat(packageDir).catch(() => null)) && !options.replace) throw new RangeError(`model "${id}" is already installed in ${options.modelsDir} (add --replace to replace it)`);
  const blobs = join(options.modelsDir, '.blobs');
  const staging = join(options.modelsDir, `.staging-${id}-${process.pid}`);
  await mkdir(blobs, { recursive: true });
  await rm(staging, { recursive: true, force: true });
  try {
    let exportDir = source;
    if (isUrl) {
      exportDir = join(staging, 'download');
      log(`downloading ${source}`);
      await downloadExport(source, exportDir, log);
    }
    const pkg = join(staging, 'package');
    const cache = await importFiles(exportDir, pkg, '', blobs, options.chunkBytes, isUrl);
    for (const variant of options.variants) {
      const out = join(staging, 'variants', variant);
      const report = convertPackage(isUrl ? pkg : exportDir, variant, out, { onComponent: (c) => log(`  ${variant} ${c.component}: ${(c.bytes / 1e6).toFixed(1)} MB in ${c.shards.length} shard(s)`) });
      log(`${variant}: ${(report.totalBytes / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s`);
      Object.assign(cache, await importFiles(out, join(pkg, 'variants', variant), `variants/${variant}`, blobs, options.chunkBytes, true));
    }
    await mkdir(join(pkg, '.ad-studio'), { recursive: true });
    await writeFile(join(pkg, CACHE_FILE), JSON.stringify({ chunkBytes: options.chunkBytes, files: cache }));
    if (options.replace) await rm(packageDir, { recursive: true, force: true });
    await rename(pkg, packageDir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  const manifest = await buildManifest(id, packageDir, { chunkBytes: options.chunkBytes, variantOrder: options.variantOrder });
  await removeUnusedBlobs(options.modelsDir);
  return manifest;
}

/** Deletes blobs no package links to any more (a blob's link count is 1 once every package file is gone). */
export async function removeUnusedBlobs(modelsDir: string): Promise<number> {
  const blobs = join(modelsDir, '.blobs');
  let removed = 0;
  for (const name of await readdir(blobs).catch(() => [])) {
    const info = await stat(join(blobs, name));
    if (info.nlink <= 1) {
      await rm(join(blobs, name));
      removed++;
    }
  }
  return removed;
}
