/**
 * Before any test: generate the tiny SDXL fixture (skipped when up to date) and build the app, so the
 * server and browser tests serve what `npm start` serves.
 */
import { execFileSync } from 'node:child_process';
import { build } from 'vite';

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/fixtures.ts'], { stdio: 'inherit' });
  await build({ logLevel: 'warn' });
}
