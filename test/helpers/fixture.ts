import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
