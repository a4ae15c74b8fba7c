import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { estimatePeakBytes, sdxlTensorSites } from '../../../src/core/capabilities.ts';
import type { ManifestFile, ManifestVariant, ModelManifest, VariantComponent } from '../../../src/core/loading/manifest.ts';
import { readSdxlPackage, type SdxlComponent } from '../../../src/core/loading/modelPackage.ts';
import { DirectoryStore } from './directoryStore.ts';
import { packageHashes } from './fileHashes.ts';
import { scanOnnx } from './onnxScan.ts';

/** Variants in the server's default order of preference: smaller downloads first, fp16 before fp32. */
export const DEFAULT_VARIANT_ORDER = ['q4f16', 'q4f32', 'q8', 'fp16', 'fp32'];
/** A package whose export holds at least this many bytes of weights is a full-size checkpoint. */
export const REAL_SIZE_BYTES = 1e9;

/** Every file of the package except dotfiles, package-relative with `/` separators, sorted. */
export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !relative(root, join(e.parentPath, e.name)).split(sep).some((part) => part.startsWith('.')))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** Folders holding a variant: the export itself (`''`) and `variants/<name>/` with a `model_index.json`. */
async function variantRoots(root: string): Promise<string[]> {
  const entries = await readdir(join(root, 'variants'), { withFileTypes: true }).catch(() => []);
  const roots = [''];
  for (const e of entries) {
    if (e.isDirectory() && (await stat(join(root, 'variants', e.name, 'model_index.json')).catch(() => null))) roots.push(`variants/${e.name}`);
  }
  return roots;
}

const prefixed = (root: string, path: string) => (root ? `${root}/${path}` : path);

/** Reads one variant: its components (scanned ONNX headers), files and needs. */
async function readVariant(packageRoot: string, root: string, files: readonly ManifestFile[]): Promise<ManifestVariant> {
  const store = new DirectoryStore(join(packageRoot, root));
  const pkg = await readSdxlPackage(store);
  const components: ManifestVariant['components'] = {};
  for (const [component, onnx] of Object.entries(pkg.components) as [SdxlComponent, { modelPath: string }][]) {
    const scan = await scanOnnx(store.localPath(onnx.modelPath));
    const folder = onnx.modelPath.slice(0, onnx.modelPath.lastIndexOf('/'));
    const externalData = scan.externalData.map((file) => prefixed(root, `${folder}/${file}`));
    const model = prefixed(root, onnx.modelPath);
    const sizeOf = (path: string) => files.find((f) => f.path === path)?.size ?? 0;
    const floats = [...scan.inputs, ...scan.outputs].filter((v) => v.type === 'float16' || v.type === 'float32');
    const entry: VariantComponent = {
      model,
      externalData,
      dtype: floats.some((v) => v.type === 'float16') ? 'float16' : 'float32',
      bytes: sizeOf(model) + externalData.reduce((n, p) => n + sizeOf(p), 0),
      residentBytes: scan.residentBytes,
      largestInitializerBytes: scan.largestInitializerBytes,
    };
    components[component] = entry;
  }
  const own = files.filter((f) => (root ? f.path.startsWith(`${root}/`) : !f.path.startsWith('variants/'))).map((f) => f.path);
  const list = Object.values(components);
  const weightBytes = list.reduce((n, c) => n + c.bytes, 0);
  const dtypeBytes = (c: SdxlComponent) => (components[c]?.dtype === 'float16' ? 2 : 4);
  const name = root ? root.slice('variants/'.length) : components.unet?.dtype === 'float16' ? 'fp16' : 'fp32';
  const side = pkg.unet.sample_size * pkg.vaeScaleFactor;
  const variant: ManifestVariant = {
    name,
    root,
    files: own,
    components,
    needs: {
      shaderF16: list.some((c) => c.dtype === 'float16'),
      largestInitializerBytes: Math.max(...list.map((c) => c.largestInitializerBytes)),
      weightBytes,
      // by content: identical files (the two tokenizers' vocabularies) download once
      downloadBytes: [...new Map(own.map((p) => files.find((f) => f.path === p)!).map((f) => [f.sha256, f.size])).values()].reduce((n, size) => n + size, 0),
      activations: sdxlTensorSites(pkg.unet, pkg.vae, { unet: dtypeBytes('unet'), vae: dtypeBytes('vae_decoder') }),
      peakMemoryBytes: { side, resident: 0, sequential: 0 },
    },
  };
  variant.needs.peakMemoryBytes = { side, resident: estimatePeakBytes(variant, side, side, 'resident'), sequential: estimatePeakBytes(variant, side, side, 'sequential') };
  return variant;
}

export interface ManifestOptions {
  /** Chunk size of the per-chunk hashes, bytes. */
  chunkBytes: number;
  /** Variant names in order of preference; variants not listed come after, by name. */
  variantOrder?: readonly string[];
  /** Marks the package full-size whatever its weight bytes (tests use it on the tiny package). */
  realSize?: boolean;
  onHashing?: (path: string, size: number) => void;
}

/**
 * Builds the manifest of an SDXL package folder: every file with its size, SHA-256 and chunk hashes (from
 * the persisted hash cache where files are unchanged), and each variant (the export itself and
 * `variants/<name>/`) with its components and what it needs from a device.
 * @throws ModelPackageError / ModelFileMissingError for a folder that is not an SDXL package.
 */
export async function buildManifest(id: string, root: string, options: ManifestOptions): Promise<ModelManifest> {
  const paths = await listFiles(root);
  const files = await packageHashes(root, paths, options.chunkBytes, options.onHashing);
  const variants = await Promise.all((await variantRoots(root)).map((r) => readVariant(root, r, files)));
  const order = options.variantOrder ?? DEFAULT_VARIANT_ORDER;
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  variants.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
  const base = await readSdxlPackage(new DirectoryStore(root));
  const exported = variants.find((v) => v.root === '')!;
  const version = createHash('sha256');
  for (const f of files) version.update(`${f.path}\0${f.sha256}\n`);
  return {
    schema: 2,
    id,
    pipeline: base.index._class_name,
    nativeSide: base.unet.sample_size * base.vaeScaleFactor,
    vaeScaleFactor: base.vaeScaleFactor,
    realSize: options.realSize ?? exported.needs.weightBytes >= REAL_SIZE_BYTES,
    chunkBytes: options.chunkBytes,
    files,
    variants,
    version: version.digest('hex'),
  };
}
