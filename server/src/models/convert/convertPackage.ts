/**
 * Converts an SDXL export (optimum / diffusers ONNX layout, as written by `optimum-cli export onnx` or
 * `npm run fixtures`) into one browser variant: a complete package in the same layout whose ONNX components
 * are rewritten by `convertGraph` and whose weights are split into shards of bounded size.
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { OPTIONAL_COMPONENTS, SDXL_COMPONENTS } from '../../../../src/core/loading/modelPackage.ts';
import { convertGraph, type ConversionStats } from './convertGraph.ts';
import { readOnnx, ShardWriter } from './onnxFile.ts';
import { componentPlan, type VariantName } from './variants.ts';

/** Default largest shard: 256 MiB, under every browser's ArrayBuffer and common GPU-buffer limits. */
export const DEFAULT_SHARD_BYTES = 256 * 1024 * 1024;

export interface ComponentReport {
  component: string;
  /** `model.onnx` plus shards, bytes. */
  bytes: number;
  shards: string[];
  largestInitializerBytes: number;
  stats: ConversionStats;
}

export interface ConversionReport {
  variant: VariantName;
  components: ComponentReport[];
  /** Bytes of every file of the variant package. */
  totalBytes: number;
  seconds: number;
}

const COMPONENT_FOLDERS: readonly string[] = [...SDXL_COMPONENTS, ...OPTIONAL_COMPONENTS];

/** Package-relative paths of the files that are not ONNX weights (configs, tokenizers), skipping dotfiles and `variants/`. */
function smallFiles(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter((path) => {
      const parts = path.split('/');
      if (parts.some((p) => p.startsWith('.')) || parts[0] === 'variants') return false;
      return !(COMPONENT_FOLDERS.includes(parts[0]!) && /^model\.onnx/.test(parts.at(-1)!));
    })
    .sort();
}

/**
 * Writes `variant` of the export in `exportDir` to `outDir`.
 * @param options.maxShardBytes largest external-data file (an initializer is never split).
 * @param options.onComponent progress, after each component.
 * @throws Error for a folder without the SDXL components, or an ONNX file the converter cannot read.
 */
export function convertPackage(
  exportDir: string,
  variant: VariantName,
  outDir: string,
  options: { maxShardBytes?: number; onComponent?: (report: ComponentReport) => void } = {},
): ConversionReport {
  const started = performance.now();
  const maxShardBytes = options.maxShardBytes ?? DEFAULT_SHARD_BYTES;
  let totalBytes = 0;
  for (const path of smallFiles(exportDir)) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    copyFileSync(join(exportDir, path), join(outDir, path));
    totalBytes += readFileSync(join(outDir, path)).length;
  }
  const vaeConfigPath = ['vae_decoder/config.json', 'vae/config.json'].map((p) => join(exportDir, p)).find((p) => {
    try {
      readFileSync(p);
      return true;
    } catch {
      return false;
    }
  });
  const forceUpcast = vaeConfigPath ? JSON.parse(readFileSync(vaeConfigPath, 'utf8')).force_upcast === true : false;
  const components: ComponentReport[] = [];
  for (const component of COMPONENT_FOLDERS) {
    const modelPath = join(exportDir, component, 'model.onnx');
    let modelBytes: Uint8Array;
    try {
      modelBytes = readFileSync(modelPath);
    } catch (error) {
      if ((OPTIONAL_COMPONENTS as readonly string[]).includes(component)) continue;
      throw new Error(`${component}/model.onnx: ${(error as Error).message}`);
    }
    const source = readOnnx(modelPath, modelBytes);
    try {
      const { plan, floatIo } = componentPlan(variant, component, forceUpcast);
      const writer = new ShardWriter(join(outDir, component), maxShardBytes);
      const { model, stats } = convertGraph(source, plan, floatIo, writer);
      const written = writer.finish(model);
      const report = { component, bytes: written.bytes, shards: written.shards, largestInitializerBytes: written.largestInitializerBytes, stats };
      components.push(report);
      totalBytes += written.bytes;
      options.onComponent?.(report);
    } finally {
      source.close();
    }
  }
  return { variant, components, totalBytes, seconds: (performance.now() - started) / 1000 };
}
