import type { RoutePreference } from '../../core/capabilities.ts';
import { DEFAULTS, STYLES, type Style } from '../../core/product/index.ts';
import { INDUSTRIES, STYLE_PRESETS, type IndustryId } from '../../core/prompt/index.ts';
import type { SamplerName } from '../../core/schedulers/index.ts';
import { DEFAULT_STRENGTH } from '../../core/request.ts';

/** The ad copy laid over the picture (see src/core/overlay). */
export interface DraftCopy {
  shop_name: string;
  headline: string;
  subline: string;
  badge: string;
}

/** What the user typed and chose; saved on every change so nothing is lost on reload or failure. */
export interface Draft {
  /** A package chosen in Advanced; '' renders with the style's package. */
  modelId: string;
  industry: IndustryId;
  style: Style;
  /** What the picture should show, as typed (Korean, English or both). */
  prompt: string;
  /** The English prompt when the user edited it; null uses the prompt builder's. */
  promptOverride: string | null;
  copy: DraftCopy;
  advancedOpen: boolean;
  negative_prompt: string;
  aspect_ratio: string;
  num_inference_steps: number;
  guidance_scale: number;
  seed: number;
  /** '' keeps the model's own scheduler. */
  scheduler: SamplerName | '';
  /** Image-to-image strength, used when a reference photo is set. */
  strength: number;
  preference: RoutePreference;
}

const KEY = 'ad-studio:draft';

/** The settings a style brings (product data): its negative prompt, steps, guidance and sampler. */
export function styleSettings(style: Style): Pick<Draft, 'negative_prompt' | 'num_inference_steps' | 'guidance_scale' | 'scheduler'> {
  const preset = STYLE_PRESETS[style];
  return { negative_prompt: preset.negative_prompt, num_inference_steps: preset.num_inference_steps, guidance_scale: preset.guidance_scale, scheduler: preset.scheduler };
}

export function defaultDraft(): Draft {
  return {
    modelId: '',
    industry: 'bakery',
    style: 'ultra_realistic',
    prompt: '',
    promptOverride: null,
    copy: { shop_name: '', headline: '', subline: '', badge: '' },
    advancedOpen: false,
    ...styleSettings('ultra_realistic'),
    aspect_ratio: DEFAULTS.aspect_ratio,
    seed: 1000,
    strength: DEFAULT_STRENGTH,
    preference: 'auto',
  };
}

/** The saved draft merged over defaults (unknown or malformed storage gives the defaults). */
export function loadDraft(): Draft {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Draft>;
    const draft = { ...defaultDraft(), ...saved };
    // a draft from an older version, or edited by hand, falls back field by field
    if (!STYLES.includes(draft.style)) draft.style = 'ultra_realistic';
    if (!INDUSTRIES.includes(draft.industry)) draft.industry = 'bakery';
    draft.copy = { ...defaultDraft().copy, ...draft.copy };
    return draft;
  } catch {
    return defaultDraft();
  }
}

export function saveDraft(draft: Draft): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(draft));
  } catch {
    // storage full or disabled: the form keeps its state in memory
  }
}
