/**
 * Writes the tiny SDXL fixture package (random weights, real layout) to `public/models/tiny-sdxl`
 * (or the folder given as the first argument). Skips the work when the folder already holds the output
 * of this exact generator source. Usage: `npm run fixtures [-- <dir>]`.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildTinySdxlPackage } from './tiny-sdxl/package.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'public/models/tiny-sdxl'));
const STAMP = '.generator-sha256';

/** Hash of the generator's own sources and of the core modules it imports. */
function generatorHash(): string {
  const hash = createHash('sha256');
  const files = [
    ...readdirSync(join(root, 'scripts/tiny-sdxl')).map((f) => join(root, 'scripts/tiny-sdxl', f)),
    join(root, 'scripts/make-tiny-sdxl.ts'),
    join(root, 'src/core/random/torchGenerator.ts'),
    join(root, 'src/core/random/mt19937.ts'),
    join(root, 'src/core/tokenizers/byteLevel.ts'),
    join(root, 'src/core/product/ad-cases.json'),
  ].sort();
  for (const f of files) hash.update(f.slice(root.length)).update(readFileSync(f));
  return hash.digest('hex');
}

const expected = generatorHash();
const stampPath = join(outDir, STAMP);
if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === expected) {
  console.log(`tiny-sdxl: up to date in ${outDir}`);
} else {
  const started = Date.now();
  const files = buildTinySdxlPackage();
  rmSync(outDir, { recursive: true, force: true });
  let bytes = 0;
  for (const [path, contents] of files) {
    mkdirSync(dirname(join(outDir, path)), { recursive: true });
    writeFileSync(join(outDir, path), contents);
    bytes += typeof contents === 'string' ? Buffer.byteLength(contents) : contents.length;
  }
  writeFileSync(stampPath, expected);
  console.log(`tiny-sdxl: wrote ${files.size} files, ${(bytes / 1e6).toFixed(2)} MB, to ${outDir} in ${Date.now() - started} ms`);
}
