/**
 * `npm run convert -- <optimum-export-dir> --variant <fp32|fp16|q4f16|q4f32|q8> --out <dir> [--shard-mb 256]`
 *
 * Writes a browser variant of an SDXL export (see `variants.ts`): a line per component with its size,
 * shards and what was quantized, then one JSON line with the whole report.
 */
import { parseArgs } from 'node:util';
import { convertPackage, DEFAULT_SHARD_BYTES } from './convertPackage.ts';
import { variantName } from './variants.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { variant: { type: 'string' }, out: { type: 'string' }, 'shard-mb': { type: 'string' } },
});
const [exportDir] = positionals;
if (!exportDir || !values.variant || !values.out) {
  console.error('usage: npm run convert -- <optimum-export-dir> --variant <fp32|fp16|q4f16|q4f32|q8> --out <dir> [--shard-mb 256]');
  process.exit(2);
}
const shardMb = values['shard-mb'] === undefined ? DEFAULT_SHARD_BYTES / 2 ** 20 : Number(values['shard-mb']);
if (!(shardMb > 0)) throw new RangeError(`--shard-mb must be a positive number of MiB, got "${values['shard-mb']}"`);
const report = convertPackage(exportDir, variantName(values.variant), values.out, {
  maxShardBytes: Math.round(shardMb * 2 ** 20),
  onComponent: (c) =>
    console.log(
      `${c.component.padEnd(15)} ${(c.bytes / 1e6).toFixed(1).padStart(9)} MB in ${c.shards.length} shard(s), largest weight ${(c.largestInitializerBytes / 1e6).toFixed(1)} MB; ` +
        `${c.stats.matmulsQuantized} MatMul and ${c.stats.convsQuantized} Conv weights quantized, ${c.stats.castsInserted} casts` +
        (c.stats.float32Inputs.length ? `, float32 inputs: ${c.stats.float32Inputs.join(', ')}` : ''),
    ),
});
console.log(`${report.variant}: ${(report.totalBytes / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s`);
console.log(JSON.stringify(report));
