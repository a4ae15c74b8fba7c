/**
 * Writes random-weight SDXL packages in the optimum ONNX layout.
 *
 *   npm run fixtures                                   the three tiny style packages into public/models (skipped when
 *                                                      current): tiny-sdxl (ultra_realistic), tiny-sdxl-semi and
 *                                                      tiny-sdxl-anime, sharing one VAE (byte-identical files)
 *   npm run fixtures -- --out <dir>                    the tiny package into <dir>
 *   npm run fixtures -- --config sdxl-base --out <dir> full-size SDXL base (6.9 GB fp16, takes minutes)
 *   npm run fixtures -- --config sdxl-base --count     parameters per component as one JSON line; writes nothing
 *   --export fp32|fp16|fp16-int32                      I/O conventions (configs.ts EXPORTS); default per config
 *   npm run fixtures -- --translation --out <dir>      the tiny random-weight Marian translation package (an
 *                                                      opus-mt-ko-en stand-in; never installed by default: its
 *                                                      English is nonsense, and the glossary is the default)
 *
 * A folder is skipped when it already holds the output of this exact generator source and options.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CONFIGS, EXPORTS, type ExportName } from './sdxl-fixture/configs.ts';
import { writeMarianPackage } from './marian-fixture/package.ts';
import { fixturePackage, parameterCounts, writeFixturePackage, type ComponentSeeds } from './sdxl-fixture/package.ts';

/**
 * The default install: one tiny package per product style. Each style is its own checkpoint (another UNet;
 * anime also other text encoders, as Animagine XL's are fine-tuned); all share the VAE, as the product's
 * checkpoints share madebyollin/sdxl-vae-fp16-fix.
 */
const STYLE_PACKAGES: readonly { id: string; seeds: Partial<ComponentSeeds> }[] = [
  { id: 'tiny-sdxl', seeds: {} },
  { id: 'tiny-sdxl-semi', seeds: { unet: 13 } },
  { id: 'tiny-sdxl-anime', seeds: { text_encoder: 11, text_encoder_2: 12, unet: 23 } },
];

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = '.generator-sha256';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'tiny' },
    export: { type: 'string' },
    out: { type: 'string' },
    count: { type: 'boolean', default: false },
    translation: { type: 'boolean', default: false },
  },
});
const config = CONFIGS[values.config!];
if (!config) throw new RangeError(`--config must be one of ${Object.keys(CONFIGS).join(', ')}, got "${values.config}"`);
const exportName = (values.export ?? config.defaultExport) as ExportName;
if (!(exportName in EXPORTS)) throw new RangeError(`--export must be one of ${Object.keys(EXPORTS).join(', ')}, got "${values.export}"`);

if (values.translation) {
  if (!values.out) throw new RangeError('--out <dir> is required for --translation');
  const started = Date.now();
  const bytes = writeMarianPackage(resolve(values.out));
  console.log(`translation (tiny Marian): wrote ${(bytes / 1e6).toFixed(2)} MB to ${resolve(values.out)} in ${Date.now() - started} ms`);
} else if (values.count) {
  console.log(JSON.stringify(parameterCounts(fixturePackage(config, exportName))));
} else if (!values.out && config.name === 'tiny' && exportName === 'fp32') {
  for (const style of STYLE_PACKAGES) write(join(root, 'public/models', style.id), style.seeds);
} else {
  if (!values.out) throw new RangeError(`--out <dir> is required for --config ${config.name} --export ${exportName}`);
  write(resolve(values.out), {});
}

/** Writes one package into `outDir` unless it already holds this generator's output for these options. */
function write(outDir: string, seeds: Partial<ComponentSeeds>): void {
  const pkg = fixturePackage(config!, exportName, seeds);
  const expected = generatorHash(`${config!.name}|${exportName}|${JSON.stringify(seeds)}`);
  const stampPath = join(outDir, STAMP);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === expected) {
    console.log(`${config!.name} (${exportName}): up to date in ${outDir}`);
    return;
  }
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  const bytes = writeFixturePackage(pkg, outDir, (folder, n) => {
    if (config!.name !== 'tiny') console.log(`  ${folder}: ${(n / 1e9).toFixed(3)} GB after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  });
  writeFileSync(stampPath, expected);
  console.log(`${config!.name} (${exportName}): wrote ${(bytes / 1e6).toFixed(2)} MB to ${outDir} in ${Date.now() - started} ms`);
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
