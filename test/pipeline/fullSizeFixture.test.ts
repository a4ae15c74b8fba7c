/**
 * The full-size fixture's architecture, without writing its 7 GB: `npm run fixtures -- --config sdxl-base
 * --count` against the parameter counts of diffusers' and transformers' SDXL base 1.0 modules
 * (`sum(p.numel() for p in module.parameters())`; the VAE parts with quant_conv / post_quant_conv, as optimum
 * exports them). The full package itself is written and converted by `npm run bench:scale`.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { SDXL_BASE } from '../../scripts/sdxl-fixture/configs.ts';
import { fixturePackage, parameterCounts } from '../../scripts/sdxl-fixture/package.ts';
import { ROOT } from '../helpers/fixture.ts';

const DIFFUSERS = { unet: 2_567_463_684, text_encoder: 123_060_480, text_encoder_2: 694_659_840, vae_encoder: 34_163_664, vae_decoder: 49_490_199 };

describe('the full-size SDXL fixture', () => {
  it('has the parameter counts of diffusers SDXL base 1.0, component by component', () => {
    expect(parameterCounts(fixturePackage(SDXL_BASE))).toEqual(DIFFUSERS);
  });

  it('npm run fixtures -- --count prints them as one JSON line and writes nothing', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/fixtures.ts', '--config', 'sdxl-base', '--count'], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out.trim())).toEqual(DIFFUSERS);
  });
});
