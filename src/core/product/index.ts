/**
 * Product data: styles, aspect ratios, defaults, industry presets and the real advertising cases
 * (`ad-cases.json`, written for this product: 3 styles x 3 businesses, English and Korean prompts, seed 1000).
 */
import adCases from './ad-cases.json';

export type AspectRatio = keyof typeof adCases.aspect_ratios;
export type Industry = keyof typeof adCases.industry_presets;

/** One real request: a business, its style, aspect ratio and prompts. */
export interface AdCase {
  id: string;
  style: string;
  industry: string;
  aspect_ratio: string;
  seed: number;
  num_inference_steps?: number;
  guidance_scale?: number;
  prompt: string;
  prompt_ko: string;
}

export const AD_CASES: readonly AdCase[] = adCases.cases;

/** The product's styles, one SDXL checkpoint each (`ad-cases.json` `styles` names them); all share one VAE. */
export const STYLES = ['ultra_realistic', 'semi_realistic', 'anime'] as const;
export type Style = (typeof STYLES)[number];
export const DEFAULTS = adCases.defaults;
/**
 * The default install's package per style (`npm run fixtures` writes them; they share one VAE). The server
 * may map styles to other packages (`STYLE_MODELS`) and says so in `GET /api/models`; the app uses this map
 * offline.
 */
export const DEFAULT_STYLE_MODELS: Readonly<Record<Style, string>> = { ultra_realistic: 'tiny-sdxl', semi_realistic: 'tiny-sdxl-semi', anime: 'tiny-sdxl-anime' };
export const INDUSTRY_PRESETS: Readonly<Record<string, string>> = adCases.industry_presets;

/** The product's aspect ratios as SDXL sizes `[width, height]` in pixels, at SDXL's native 1024. */
export const ASPECT_RATIOS: Readonly<Record<string, readonly [number, number]>> = Object.fromEntries(
  Object.entries(adCases.aspect_ratios).map(([ratio, [width, height]]) => [ratio, [width!, height!] as const]),
);

/**
 * The size for an aspect ratio on a model whose native square side is `nativeSide` pixels (1024 for SDXL,
 * smaller for test fixtures): the SDXL size scaled by `nativeSide / 1024`, each side rounded to a multiple of
 * `multiple` (the VAE scale, 8).
 * @throws RangeError for an unknown aspect ratio.
 */
export function sizeForAspectRatio(aspectRatio: string, nativeSide: number, multiple = 8): { width: number; height: number } {
  const size = ASPECT_RATIOS[aspectRatio];
  if (!size) throw new RangeError(`aspect_ratio must be one of ${Object.keys(ASPECT_RATIOS).join(', ')}, got "${aspectRatio}"`);
  const scale = nativeSide / 1024;
  const fit = (side: number) => Math.max(multiple, Math.round((side * scale) / multiple) * multiple);
  return { width: fit(size[0]), height: fit(size[1]) };
}
