/**
 * API keys of the server, in `DATA_DIR/access.sqlite` (it may run meanwhile: changes apply from its next request):
 *
 *   npm run keys -- add <name> [--daily-quota N]   prints the new key once; only its scrypt hash is stored
 *   npm run keys -- list                           names, ids, quotas, renders today; never a key
 *   npm run keys -- revoke <name>                  refused from the next request on
 *
 * `--daily-quota` sets the key's server renders a day (0: unlimited); without it the server's `DAILY_QUOTA`
 * applies. Settings come from the environment as for the server (README, "Keys, quotas, rate limits and CORS").
 * Exit code 2 for bad usage or a refused change, with one line on stderr.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { describeError } from '../../../src/core/errors.ts';
import { configFromEnv } from '../config.ts';
import { ACCESS_DB_FILE, openAccessDb } from './accessDb.ts';
import { ApiKeyStore } from './apiKeys.ts';
import { QuotaStore } from './quotaStore.ts';

const USAGE = 'usage: npm run keys -- add <name> [--daily-quota N] | list | revoke <name>';

function fail(message: string): never {
  process.stderr.write(`keys: ${message}\n`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseArgs<{ allowPositionals: true; options: { 'daily-quota': { type: 'string' } } }>>;
try {
  parsed = parseArgs({ allowPositionals: true, options: { 'daily-quota': { type: 'string' } } });
} catch (error) {
  fail(`${(error as Error).message}\n${USAGE}`);
}
const { values, positionals } = parsed;
const [command, name, ...extra] = positionals;
if (extra.length > 0) fail(`unexpected arguments: ${extra.join(' ')}\n${USAGE}`);
let config: ReturnType<typeof configFromEnv>;
try {
  config = configFromEnv();
} catch (error) {
  fail((error as Error).message);
}
const db = openAccessDb(join(config.dataDir, ACCESS_DB_FILE));
const keys = new ApiKeyStore(db);
try {
  if (command === 'add' && name) {
    const quotaText = values['daily-quota'];
    if (quotaText !== undefined && !/^\d+$/.test(quotaText)) throw new Error(`--daily-quota: must be a non-negative integer (got ${JSON.stringify(quotaText)})`);
    const { key, info } = await keys.create(name, quotaText === undefined ? undefined : Number(quotaText));
    const quota = info.dailyQuota === undefined ? `the server's DAILY_QUOTA (${config.dailyQuota || 'unlimited'})` : info.dailyQuota === 0 ? 'unlimited' : `${info.dailyQuota} server renders a day`;
    process.stdout.write(`added key ${info.name} (id ${info.id}, quota: ${quota}). The key, shown only now:\n${key}\n`);
  } else if (command === 'list' && !name) {
    const quota = new QuotaStore(db);
    for (const info of keys.list()) {
      const limit = info.dailyQuota ?? config.dailyQuota;
      const today = quota.view(`key:${info.id}`, limit);
      const state = info.revokedAt ? `revoked ${info.revokedAt}` : `active, ${today.used} of ${today.limit ?? 'unlimited'} server renders today`;
      process.stdout.write(`${info.name}\tid ${info.id}\tcreated ${info.createdAt}\t${state}\n`);
    }
  } else if (command === 'revoke' && name) {
    const info = keys.revoke(name);
    process.stdout.write(`revoked key ${info.name} (id ${info.id}) at ${info.revokedAt}\n`);
  } else {
    throw new Error(USAGE);
  }
  db.close();
} catch (error) {
  db.close();
  fail(describeError(error).message);
}
