import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeMarianPackage } from '../../scripts/marian-fixture/package.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MODELS_DIR = join(ROOT, 'public/models');
export const FIXTURE_ID = 'tiny-sdxl';
export const FIXTURE_DIR = join(MODELS_DIR, FIXTURE_ID);

/** `../shared` beside the project (CI has it too); undefined when absent. */
export const SHARED_DIR = [resolve(ROOT, '../shared')].find((d) => existsSync(d));

/** Runs `body` on a temporary copy of the fixture package (to alter it), removed afterwards. */
export async function withFixtureCopy<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tiny-sdxl-copy-'));
  try {
    cpSync(FIXTURE_DIR, dir, { recursive: true });
    return await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A temporary models folder with a copy of the tiny SDXL package (`tiny-sdxl`) and the tiny random-weight Marian
 * translation package (`opus-mt-ko-en`); `modelsDir` for `startServer`, with every style on `tiny-sdxl`.
 * `remove()` deletes it.
 */
export function modelsWithTranslation(): { modelsDir: string; styleModels: Record<'ultra_realistic' | 'semi_realistic' | 'anime', string>; remove(): void } {
  const modelsDir = mkdtempSync(join(tmpdir(), 'models-translation-'));
  cpSync(FIXTURE_DIR, join(modelsDir, FIXTURE_ID), { recursive: true });
  writeMarianPackage(join(modelsDir, 'opus-mt-ko-en'));
  return {
    modelsDir,
    styleModels: { ultra_realistic: FIXTURE_ID, semi_realistic: FIXTURE_ID, anime: FIXTURE_ID },
    remove: () => rmSync(modelsDir, { recursive: true, force: true }),
  };
}
