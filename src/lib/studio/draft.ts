import type { RoutePreference } from '../../core/capabilities.ts';
import { DEFAULTS } from '../../core/product/index.ts';
import type { SamplerName } from '../../core/schedulers/index.ts';
import { DEFAULT_STRENGTH } from '../../core/request.ts';

/** What the user typed and chose; saved on every change so nothing is lost on reload or failure. */
export interface Draft {
  modelId: string;
  prompt: string;
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

export function defaultDraft(): Draft {
  return {
    modelId: '',
    prompt: '',
    negative_prompt: DEFAULTS.negative_prompt,
    aspect_ratio: DEFAULTS.aspect_ratio,
    num_inference_steps: DEFAULTS.num_inference_steps,
    guidance_scale: DEFAULTS.guidance_scale,
    seed: 1000,
    scheduler: '',
    strength: DEFAULT_STRENGTH,
    preference: 'auto',
  };
}

/** The saved draft merged over defaults (unknown or malformed storage gives the defaults). */
export function loadDraft(): Draft {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Draft>;
    return { ...defaultDraft(), ...saved };
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
