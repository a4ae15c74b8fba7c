import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertPackage } from '../../server/src/models/convert/convertPackage.ts';
import type { VariantName } from '../../server/src/models/convert/variants.ts';
import { EXPORTS, TINY, type ExportName } from '../../scripts/sdxl-fixture/configs.ts';
import { fixturePackage, writeFixturePackage } from '../../scripts/sdxl-fixture/package.ts';
import { FIXTURE_DIR } from './fixture.ts';

/**
 * Least PSNR of each browser variant's image against the fp32 export's, same request and seed, on the tiny
 * fixture (random weights, 4 steps, onnxruntime-node CPU). Measured: fp16 57.3 dB, q8 43.3 dB, q4f16 26.0 dB,
 * q4f32 25.9 dB; the bounds leave a margin for other CPUs' kernels.
 */
export const MIN_PSNR: Record<VariantName, number> = { fp32: 99, fp16: 50, q8: 38, q4f16: 22, q4f32: 22 };

/** PSNR in dB of two equal-size 8-bit RGBA images, over RGB. */
export function psnr(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) throw new RangeError(`images differ in size: ${a.length} vs ${b.length} bytes`);
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    se += (a[i]! - b[i]!) ** 2;
    n++;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

/** Temporary folders removed by `cleanup`. */
export class TempDirs {
  private readonly dirs: string[] = [];
  make(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }
  cleanup(): void {
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

/** The tiny fixture converted to `variant` in a temporary folder. */
export function tinyVariant(dirs: TempDirs, variant: VariantName, maxShardBytes?: number): string {
  const out = dirs.make(`tiny-${variant}-`);
  convertPackage(FIXTURE_DIR, variant, out, maxShardBytes ? { maxShardBytes } : {});
  return out;
}

/** The tiny fixture written with other export conventions (fp16 I/O, int32 ids, int64 timestep, ...). */
export function tinyExport(dirs: TempDirs, exportName: ExportName): string {
  if (!(exportName in EXPORTS)) throw new RangeError(`unknown export ${exportName}`);
  const out = dirs.make(`tiny-${exportName}-`);
  writeFixturePackage(fixturePackage(TINY, exportName), out);
  return out;
}
