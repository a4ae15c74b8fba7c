/**
 * The on-device, offline prompt builder: a shop owner's Korean, English or mixed text -> an English SDXL
 * prompt for one product style, with that checkpoint's quality tags, the industry's fragments, a negative
 * prompt, and the style's sampler defaults, within CLIP's 77 tokens. Data is product data (JSON beside this
 * file: `glossary.json`, `styles.json`, `industries.json`, `token-counts.json`). Runs in the browser and Node.
 */
import { EngineError } from '../errors.ts';
import { STYLES, type Style } from '../product/index.ts';
import { SAMPLER_NAMES, type SamplerName } from '../schedulers/index.ts';
import industriesData from './industries.json';
import stylesData from './styles.json';
import { translate } from './korean.ts';
import { removeLettering } from './textGuard.ts';
import { estimateTokens } from './tokens.ts';

export { translate, type Translation } from './korean.ts';
export { removeLettering, type GuardedText } from './textGuard.ts';
export { estimateTokens } from './tokens.ts';
export { STYLES, type Style } from '../product/index.ts';

/** CLIP's content tokens in one 77-token sequence (77 minus BOS and EOS). */
export const MAX_PROMPT_TOKENS = 75;

/** Industry ids, in the order the product lists them (`industries.json`). */
export const INDUSTRIES = ['cafe', 'bakery', 'restaurant', 'flower_shop', 'hair_nail_salon', 'retail', 'service', 'other'] as const;
export type IndustryId = (typeof INDUSTRIES)[number];

/** One industry preset: its Korean label and the English fragments added after the owner's words. */
export interface IndustryPreset {
  label: string;
  fragments: readonly string[];
}
export const INDUSTRY_PRESETS: Readonly<Record<IndustryId, IndustryPreset>> = industriesData.industries;

/** A style tag and its priority (higher is kept longer; industry fragments have `INDUSTRY_PRIORITY`). */
export interface StyleTag {
  text: string;
  priority: number;
}

/** One style's prompt template, negative prompt and sampler defaults (`styles.json`). */
export interface StylePreset {
  /** The SDXL checkpoint the style runs (as `product/ad-cases.json` `styles`). */
  checkpoint: string;
  /** Tags before the owner's words ("RAW photo", "masterpiece"). */
  prefix: readonly StyleTag[];
  /** Tags after the owner's words and the industry fragments (quality tags). */
  suffix: readonly StyleTag[];
  /** Fits in 75 CLIP tokens; always names text, letters, watermark and logo. */
  negative_prompt: string;
  num_inference_steps: number;
  guidance_scale: number;
  /** One of `SAMPLER_NAMES`. */
  scheduler: SamplerName;
}
export const STYLE_PRESETS: Readonly<Record<Style, StylePreset>> = stylesData.styles as Record<Style, StylePreset>;
export const INDUSTRY_PRIORITY: number = industriesData.industry_priority;

for (const style of STYLES) {
  const preset = STYLE_PRESETS[style];
  if (!preset || !SAMPLER_NAMES.includes(preset.scheduler)) throw new Error(`styles.json: style ${style} is missing or has an unknown scheduler`);
}

/** What `buildPrompt` returns. */
export interface BuiltPrompt {
  /** The English prompt: style prefix, the owner's words, industry fragments, quality tags (comma-separated). */
  prompt: string;
  negative_prompt: string;
  style: Style;
  industry: IndustryId;
  /** Korean (non-Latin) words the glossary does not know, as typed; left out of `prompt`. */
  untranslated: string[];
  /** Lettering requests cut out of the text (quoted words, "with the words ...", 글씨/문구), as typed. */
  removed_text: string[];
  /** Style tags and industry fragments left out to fit 75 tokens, in the order they were dropped. */
  dropped: string[];
  /** CLIP tokens of `prompt` (without BOS/EOS), by `countTokens`. */
  tokens: number;
  /** True when the owner's words alone pass 75 tokens: the pipeline will cut the end and report it. */
  over_limit: boolean;
  /** Set when a translation model translated the Korean (`buildPromptTranslated`): its id and its English. */
  translation?: { model: string; text: string };
}

/** What `buildPrompt` takes. */
export interface PromptInput {
  /** The owner's text: Korean, English or mixed. */
  text: string;
  style: Style;
  /** Default `other`. */
  industry?: IndustryId;
}

export interface BuildOptions {
  /**
   * CLIP tokens of a text without BOS/EOS, e.g. `(t) => clip.encode(t).tokenCount` is wrong past 75 (it
   * truncates), so pass the untruncated count of a real tokenizer; default `estimateTokens`, which never
   * counts fewer than the real CLIP BPE.
   */
  countTokens?: (text: string) => number;
}

const invalid = (field: string, message: string) => new EngineError('invalid_request', `${field}: ${message}`, [{ field, message }]);

/** Whether `part` (a tag) already appears in `text` as whole words. */
function contains(text: string, part: string): boolean {
  const escaped = part.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}])${escaped}($|[^\\p{L}])`, 'u').test(text.toLowerCase());
}

/**
 * Builds the English SDXL prompt for an owner's text in a style.
 *
 * Steps: the no-text guard removes lettering requests (`removed_text`); the glossary translates Korean words
 * (particles and endings stripped against known stems; unknown words go to `untranslated`, never into the
 * prompt), English passes through as typed; then the style's prefix tags, the owner's words, the industry
 * fragments and the style's suffix (quality) tags are joined with ", ". While the prompt passes 75 CLIP tokens,
 * the lowest-priority tag is dropped (later first among equals: later quality tags, then industry fragments,
 * then core style tags); the owner's words are never dropped (`over_limit` when they alone pass 75).
 * Conventions: RealVisXL V4.0, Illustrious-XL and Animagine XL 3.1 model cards (see `styles.json` `about`).
 *
 * @param input text (non-empty), style (one of `STYLES`), industry (one of `INDUSTRIES`, default `other`).
 * @param options countTokens: a real CLIP token counter; default `estimateTokens`.
 * @returns the prompt, the style's negative prompt and what was untranslated, removed or dropped.
 * @throws EngineError `invalid_request` naming the field for empty text, an unknown style or industry.
 */
export function buildPrompt(input: PromptInput, options: BuildOptions = {}): BuiltPrompt {
  if (typeof input !== 'object' || input === null) throw invalid('input', 'must be an object with text and style');
  const { text, style } = input;
  const industry = input.industry ?? 'other';
  if (typeof text !== 'string' || !text.trim()) throw invalid('text', 'must be a non-empty string');
  if (!(STYLES as readonly string[]).includes(style)) throw invalid('style', `must be one of ${STYLES.join(', ')} (got ${JSON.stringify(style)})`);
  if (!(INDUSTRIES as readonly string[]).includes(industry)) throw invalid('industry', `must be one of ${INDUSTRIES.join(', ')} (got ${JSON.stringify(industry)})`);
  const count = options.countTokens ?? estimateTokens;
  const preset = STYLE_PRESETS[style];

  const guarded = removeLettering(text);
  const { english, untranslated } = translate(guarded.text);

  interface Part {
    text: string;
    priority: number;
  }
  const user: Part = { text: english, priority: Infinity };
  const optional = (tags: readonly StyleTag[]) => tags.filter((t) => !contains(english, t.text)).map((t) => ({ text: t.text, priority: t.priority }));
  const fragments = INDUSTRY_PRESETS[industry].fragments.filter((f) => !contains(english, f)).map((f) => ({ text: f, priority: INDUSTRY_PRIORITY }));
  let parts: Part[] = [...optional(preset.prefix), user, ...fragments, ...optional(preset.suffix)];
  const join = (list: readonly Part[]) => list.map((p) => p.text).filter(Boolean).join(', ');

  const dropped: string[] = [];
  let tokens = count(join(parts));
  while (tokens > MAX_PROMPT_TOKENS) {
    let victim = -1;
    parts.forEach((p, i) => {
      if (p.priority !== Infinity && (victim < 0 || p.priority <= parts[victim]!.priority)) victim = i;
    });
    if (victim < 0) break;
    dropped.push(parts[victim]!.text);
    parts = parts.filter((_, i) => i !== victim);
    tokens = count(join(parts));
  }
  return {
    prompt: join(parts),
    negative_prompt: preset.negative_prompt,
    style,
    industry,
    untranslated,
    removed_text: guarded.removed_text,
    dropped,
    tokens,
    over_limit: tokens > MAX_PROMPT_TOKENS,
  };
}

/** A Korean -> English translation model (opus-mt-ko-en through the host's runtime): the glossary's optional stand-in. */
export interface TextTranslator {
  /** The model's package name, e.g. `opus-mt-ko-en`. */
  readonly id: string;
  /** English for Korean (or mixed) text. @throws the model's errors (cancelled, session errors). */
  translate(text: string): Promise<string>;
}

const HANGUL = /\p{Script=Hangul}/u;

/**
 * `buildPrompt` with a translation model in place of the glossary: the no-text guard runs first, then, when
 * Korean remains, the model translates the guarded text and the prompt is built from its English (which passes
 * the guard again, so lettering the model writes out is cut too). Text without Korean, and a model that
 * answers nothing, keep the glossary's prompt. `translation` records the model and its English.
 * @param translator undefined: exactly `buildPrompt`.
 * @throws EngineError `invalid_request` as `buildPrompt` (checked before the model runs); the translator's errors.
 */
export async function buildPromptTranslated(input: PromptInput, translator: TextTranslator | undefined, options: BuildOptions = {}): Promise<BuiltPrompt> {
  const glossaryBuilt = buildPrompt(input, options);
  if (!translator) return glossaryBuilt;
  const guarded = removeLettering(input.text);
  if (!HANGUL.test(guarded.text)) return glossaryBuilt;
  const english = (await translator.translate(guarded.text)).trim();
  if (!english) return { ...glossaryBuilt, translation: { model: translator.id, text: '' } };
  const built = buildPrompt({ ...input, text: english }, options);
  return { ...built, removed_text: [...guarded.removed_text, ...built.removed_text], translation: { model: translator.id, text: english } };
}
