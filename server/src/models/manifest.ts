import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sdxlTensorSites } from '../../../src/core/capabilities.ts';
import type { ManifestFile, ModelManifest } from '../../../src/core/loading/manifest.ts';
import { readSdxlPackage, type SdxlComponent } from '../../../src/core/loading/modelPackage.ts';
import { DirectoryStore } from './directoryStore.ts';
import { scanOnnx } from './onnxScan.ts';

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every file of the package except dotfiles, package-relative with `/` separators, sorted. */
async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !relative(root, join(e.parentPath, e.name)).split(sep).some((part) => part.startsWith('.')))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/**
 * Builds the manifest of an SDXL package folder: files with sizes and SHA-256 (read once, streamed),
 * element types and largest weights from the ONNX graphs, and the activation sizes from the configs.
 * @throws ModelPackageError / ModelFileMissingError for a folder that is not an SDXL package.
 */
export async function buildManifest(id: string, root: string): Promise<ModelManifest> {
  const store = new DirectoryStore(root);
  const pkg = await readSdxlPackage(store);
  const paths = await listFiles(root);
  const files: ManifestFile[] = await Promise.all(
    paths.map(async (path) => ({ path, size: (await stat(join(root, path))).size, sha256: await sha256File(join(root, path)) })),
  );
  const components = Object.entries(pkg.components) as [SdxlComponent, { modelPath: string }][];
  const scans = await Promise.all(components.map(async ([c, files]) => [c, await scanOnnx(store.localPath(files.modelPath))] as const));
  const dtypes: ModelManifest['dtypes'] = Object.fromEntries(scans.map(([c, scan]) => [c, scan.inputs.some((i) => i.type === 'float16') ? 'float16' : 'float32']));
  const bytes = (c: SdxlComponent) => (dtypes[c] === 'float16' ? 2 : 4);
  return {
    id,
    pipeline: pkg.index._class_name,
    nativeSide: pkg.unet.sample_size * pkg.vaeScaleFactor,
    vaeScaleFactor: pkg.vaeScaleFactor,
    files,
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    dtypes,
    largestWeightBytes: Math.max(...scans.map(([, s]) => s.largestInitializerBytes)),
    activations: sdxlTensorSites(pkg.unet, pkg.vae, { unet: bytes('unet'), vae: bytes('vae_decoder') }),
  };
}
