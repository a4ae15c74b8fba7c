/**
 * Writes random-weight SDXL packages in the optimum ONNX layout.
 *
 *   npm run fixtures                                   tiny-sdxl into public/models (skipped when current)
 *   npm run fixtures -- --out <dir>                    the tiny package into <dir>
 *   npm run fixtures -- --config sdxl-base --out <dir> full-size SDXL base (6.9 GB fp16, takes minutes)
 *   npm run fixtures -- --config sdxl-base --count     parameters per component as one JSON line; writes nothing
 *   --export fp32|fp16|fp16-int32                      I/O conventions (configs.ts EXPORTS); default per config
 *
 * A folder is skipped when it already holds the output of this exact generator source and options.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIGS, EXPORTS, type ExportName } from './sdxl-fixture/configs.ts';
import { fixturePackage, parameterCounts, writeFixturePackage } from './sdxl-fixture/package.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.generator-sha256';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'tiny' },
    export: { type: 'string' },
    out: { type: 'string' },
    count: { type: 'boolean', default: false },
  },
});
const config = CONFIGS[values.config!];
if (!config) throw new RangeError(`--config must be one of ${Object.keys(CONFIGS).join(', ')}, got "${values.config}"`);
const exportName = (values.export ?? config.defaultExport) as ExportName;
if (!(exportName in EXPORTS)) throw new RangeError(`--export must be one of ${Object.keys(EXPORTS).join(', ')}, got "${values.export}"`);
const pkg = fixturePackage(config, exportName);

if (values.count) {
  console.log(JSON.stringify(parameterCounts(pkg)));
} else {
  const defaultOut = config.name === 'tiny' && exportName === 'fp32' ? join(root, 'public/models/tiny-sdxl') : undefined;
  const outDir = resolve(values.out ?? defaultOut ?? '');
  if (!values.out && !defaultOut) throw new RangeError(`--out <dir> is required for --config ${config.name} --export ${exportName}`);
  const expected = generatorHash(`${config.name}|${exportName}`);
  const stampPath = join(outDir, STAMP);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === expected) {
    console.log(`${config.name} (${exportName}): up to date in ${outDir}`);
  } else {
    const started = Date.now();
    rmSync(outDir, { recursive: true, force: true });
    const bytes = writeFixturePackage(pkg, outDir, (folder, n) => {
      if (config.name !== 'tiny') console.log(`  ${folder}: ${(n / 1e9).toFixed(3)} GB after ${((Date.now() - started) / 1000).toFixed(0)} s`);
    });
    writeFileSync(stampPath, expected);
    console.log(`${config.name} (${exportName}): wrote ${(bytes / 1e6).toFixed(2)} MB to ${outDir} in ${Date.now() - started} ms`);
  }
}

/** Hash of the generator's own sources, the core modules it imports, and the options. */
function generatorHash(options: string): string {
  const hash = createHash('sha256').update(options);
  const files = [
    ...readdirSync(join(root, 'scripts/sdxl-fixture')).map((f) => join(root, 'scripts/sdxl-fixture', f)),
    join(root, 'scripts/fixtures.ts'),
    join(root, 'src/core/random/torchGenerator.ts'),
    join(root, 'src/core/random/mt19937.ts'),
    join(root, 'src/core/tokenizers/byteLevel.ts'),
    join(root, 'src/core/tensor.ts'),
    join(root, 'src/core/product/ad-cases.json'),
  ].sort();
  for (const f of files) hash.update(f.slice(root.length)).update(readFileSync(f));
  return hash.digest('hex');
}
