import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const MODELS_DIR = join(ROOT, 'public/models');
export const FIXTURE_ID = 'tiny-sdxl';
export const FIXTURE_DIR = join(MODELS_DIR, FIXTURE_ID);

/** `../shared` beside the project (CI has it too); undefined when absent. */
export const SHARED_DIR = [resolve(ROOT, '../shared')].find((d) => existsSync(d));
