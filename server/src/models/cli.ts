/**
 * Model packages of the server (and so of the app), in `MODELS_DIR`:
 *
 *   npm run models -- add <optimum-export-dir|url> [--id <id>] [--variants q4f16,q4f32] [--replace]
 *   npm run models -- list
 *   npm run models -- remove <id>
 *
 * `add` imports the export (a Hugging Face `.../resolve/main/` URL works), converts the browser variants, and
 * stores each distinct file once. Settings come from the environment as for the server (README, "Server").
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configFromEnv } from '../config.ts';
import { variantName } from './convert/variants.ts';
import { addModel, removeUnusedBlobs } from './install.ts';
import { buildManifest } from './manifest.ts';
import { ModelRegistry } from './registry.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { id: { type: 'string' }, variants: { type: 'string', default: '' }, replace: { type: 'boolean', default: false } },
});
const [command, target] = positionals;
const config = configFromEnv();
const gb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

if (command === 'add' && target) {
  const variants = values.variants!.split(',').filter(Boolean).map(variantName);
  const manifest = await addModel(target, {
    modelsDir: config.modelsDir,
    id: values.id,
    variants,
    chunkBytes: config.modelChunkBytes,
    variantOrder: config.variantOrder,
    replace: values.replace,
    log: (line) => console.log(line),
  });
  console.log(`added ${manifest.id} to ${config.modelsDir}: ${manifest.variants.map((v) => `${v.name} ${gb(v.needs.downloadBytes)}`).join(', ')}`);
} else if (command === 'list') {
  const registry = new ModelRegistry(config.modelsDir, config.defaultModel, { chunkBytes: config.modelChunkBytes });
  for (const id of await registry.ids()) {
    const manifest = await buildManifest(id, join(config.modelsDir, id), { chunkBytes: config.modelChunkBytes, variantOrder: config.variantOrder });
    console.log(`${id}${manifest.realSize ? ' (full size)' : ''}: ${manifest.variants.map((v) => `${v.name} ${gb(v.needs.downloadBytes)}`).join(', ')}`);
  }
} else if (command === 'remove' && target) {
  await rm(join(config.modelsDir, target), { recursive: true });
  console.log(`removed ${target}; ${await removeUnusedBlobs(config.modelsDir)} files no other package used were deleted`);
} else {
  console.error('usage: npm run models -- add <optimum-export-dir|url> [--id <id>] [--variants q4f16,q4f32] [--replace] | list | remove <id>');
  process.exit(2);
}
