import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { EngineError } from './errors.ts';
import { COPY_LIMITS, validateAdCopy } from './overlay/copy.ts';
import { OVERLAY_TEMPLATES } from './overlay/templates.ts';
import { STYLES } from './product/index.ts';
import { INDUSTRIES } from './prompt/index.ts';
import { SAMPLER_NAMES } from './schedulers/index.ts';

/** Longest prompt accepted, in characters (CLIP keeps 75 tokens; the rest is reported as cut). */
export const MAX_PROMPT_CHARS = 2000;
/** Image side limits in pixels; sides are multiples of 8 (one latent cell). */
export const MIN_SIDE = 32;
export const MAX_SIDE = 2048;
export const MAX_STEPS = 150;
export const MAX_GUIDANCE = 30;
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
/** SDXL micro-conditioning sizes (original_size, target_size) go up to this many pixels per side. */
export const MAX_CONDITIONING_SIDE = 8192;
/** A reference image data URL may be this long (the decoded file limit is checked separately). */
export const MAX_IMAGE_URL_CHARS = 14_500_000;

/** `[height, width]` in pixels, as diffusers' `original_size` / `target_size` tuples. */
const Size = (description: string) =>
  Type.Array(Type.Integer({ minimum: 1, maximum: MAX_CONDITIONING_SIDE }), { minItems: 2, maxItems: 2, description: `${description}: [height, width] in pixels` });
/** `[top, left]` in pixels, as diffusers' `crops_coords_top_left`. */
const Crop = (description: string) =>
  Type.Array(Type.Integer({ minimum: 0, maximum: MAX_CONDITIONING_SIDE }), { minItems: 2, maxItems: 2, description: `${description}: [top, left] in pixels` });

/** A copy field: text with the overlay's limit (Unicode code points, as `validateAdCopy` counts them). */
const CopyText = (field: keyof typeof COPY_LIMITS, description: string) => Type.Optional(Type.String({ maxLength: COPY_LIMITS[field], description: `${description}; at most ${COPY_LIMITS[field]} characters` }));

/** The ad copy laid over the picture (`src/core/overlay`, `AdCopy`): every field optional, Korean or English. */
export const AdCopySchema = Type.Object(
  {
    shop_name: CopyText('shop_name', "the shop's name, one line"),
    headline: CopyText('headline', 'the main line, up to three lines (a newline forces a break)'),
    subline: CopyText('subline', 'a supporting line, up to two lines'),
    badge: CopyText('badge', 'a price or discount shown in a pill, one line'),
    watermark: CopyText('watermark', 'small text in the bottom-right corner, one line'),
    template: Type.Optional(Type.Enum([...OVERLAY_TEMPLATES], { description: "where the text block sits; the aspect ratio's default when omitted" })),
  },
  { additionalProperties: false, description: 'ad copy drawn over the picture at full resolution (the layout node)' },
);

/** The advertisement around the picture: the owner's description (the prompt node builds the prompt from it) and the copy. */
export const AdSchema = Type.Object(
  {
    text: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PROMPT_CHARS, description: "the owner's description in Korean, English or both; the English prompt is built from it when `prompt` is omitted" })),
    industry: Type.Optional(Type.Enum([...INDUSTRIES], { description: "the shop's industry (its prompt fragments); `other` when omitted" })),
    copy: Type.Optional(AdCopySchema),
  },
  { additionalProperties: false },
);

/**
 * The one generation request, shared by the app, the browser worker and the server, validated on every
 * side with the same schema. Field names follow diffusers' `StableDiffusionXLPipeline.__call__`.
 */
export const GenerateRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'model package id; the server default when omitted' })),
    style: Type.Optional(Type.Enum([...STYLES], { description: "the product style, whose checkpoint renders the image when `model` is omitted" })),
    prompt: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_PROMPT_CHARS, description: 'the English prompt, used as typed; required unless `ad.text` is given (the prompt is then built from it)' })),
    negative_prompt: Type.String({ maxLength: MAX_PROMPT_CHARS, default: '' }),
    width: Type.Integer({ minimum: MIN_SIDE, maximum: MAX_SIDE, multipleOf: 8, description: 'pixels' }),
    height: Type.Integer({ minimum: MIN_SIDE, maximum: MAX_SIDE, multipleOf: 8, description: 'pixels' }),
    num_inference_steps: Type.Integer({ minimum: 1, maximum: MAX_STEPS, default: 40 }),
    guidance_scale: Type.Number({ minimum: 0, maximum: MAX_GUIDANCE, default: 7.5, description: '<= 1 disables classifier-free guidance' }),
    seed: Type.Integer({ minimum: 0, maximum: MAX_SEED, description: 'torch.manual_seed value; only seed mod 2^32 matters' }),
    scheduler: Type.Optional(Type.Enum([...SAMPLER_NAMES], { description: "sampler; the model's scheduler_config.json when omitted" })),
    guidance_rescale: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'Lin et al. 2023 guidance rescale (0 disables)' }),
    original_size: Type.Optional(Size('SDXL micro-conditioning; default the output size')),
    crops_coords_top_left: Type.Optional(Crop('SDXL micro-conditioning; default [0, 0]')),
    target_size: Type.Optional(Size('SDXL micro-conditioning; default the output size')),
    negative_original_size: Type.Optional(Size('negative micro-conditioning; default as the positive')),
    negative_crops_coords_top_left: Type.Optional(Crop('negative micro-conditioning; default as the positive')),
    negative_target_size: Type.Optional(Size('negative micro-conditioning; default as the positive')),
    image: Type.Optional(Type.String({ maxLength: MAX_IMAGE_URL_CHARS, description: 'reference photo for image-to-image: a PNG or JPEG data URL' })),
    strength: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'image-to-image: the share of the schedule to run; 0.3 when omitted (diffusers SDXL img2img default)' })),
    ad: Type.Optional(AdSchema),
  },
  { additionalProperties: false },
);

export type GenerateRequest = Static<typeof GenerateRequestSchema>;
export type AdRequest = Static<typeof AdSchema>;

/**
 * A request whose prompt is known: what the pipeline runs. The workflow's prompt node makes one from a request
 * with only `ad.text` (`src/core/workflow`); a request with `prompt` already is one.
 */
export type ResolvedRequest = GenerateRequest & { prompt: string };

/** Whether the request carries its prompt (no prompt node needed). */
export const hasPrompt = (request: GenerateRequest): request is ResolvedRequest => typeof request.prompt === 'string';

/**
 * The request as the pipeline needs it.
 * @throws RequestValidationError `prompt` `required` when it has none (build it from `ad.text` with the workflow first).
 */
export function requireResolved(request: GenerateRequest): ResolvedRequest {
  if (hasPrompt(request)) return request;
  throw new RequestValidationError([{ field: 'prompt', message: 'is required (the pipeline runs a resolved request: build the prompt from ad.text first)', rule: 'required' }]);
}

/**
 * What kind of limit an issue broke, so an interface can say it in its own language without reading `message`:
 * `required`, `minimum` / `maximum` (`limit` the bound, inclusive), `exclusive_minimum`, `min_length` /
 * `max_length` (`limit` in characters), `multiple_of` (`limit` the step), `one_of` (`limit` the allowed values,
 * comma-separated), `type` (`limit` the expected JSON type), `pattern`, `blank` (whitespace only), `no_step`
 * (image-to-image strength that runs no step; `limit` the least strength), `unknown_field`, `items` (an array
 * of the wrong length), `not_object`, `schema`.
 */
export type IssueRule =
  | 'required'
  | 'minimum'
  | 'maximum'
  | 'exclusive_minimum'
  | 'min_length'
  | 'max_length'
  | 'multiple_of'
  | 'one_of'
  | 'type'
  | 'pattern'
  | 'blank'
  | 'no_step'
  | 'unknown_field'
  | 'items'
  | 'not_object'
  | 'schema';

/** One problem with a request: the field (JSON path without the leading slash) and what is wrong. */
export interface RequestIssue {
  field: string;
  /** English, for logs and API clients. */
  message: string;
  rule?: IssueRule;
  /** The bound of `rule` (see IssueRule). */
  limit?: number | string;
}

/** TypeBox error keywords -> IssueRule, and where the keyword's params keep the limit. */
const RULES: Record<string, [IssueRule, string?]> = {
  minimum: ['minimum', 'limit'],
  maximum: ['maximum', 'limit'],
  exclusiveMinimum: ['exclusive_minimum', 'limit'],
  minLength: ['min_length', 'limit'],
  maxLength: ['max_length', 'limit'],
  multipleOf: ['multiple_of', 'multipleOf'],
  enum: ['one_of', 'allowedValues'],
  type: ['type', 'type'],
  pattern: ['pattern', 'pattern'],
  minItems: ['items', 'limit'],
  maxItems: ['items', 'limit'],
};

function ruleOf(keyword: string, params: Record<string, unknown>): Pick<RequestIssue, 'rule' | 'limit'> {
  const [rule, key] = RULES[keyword] ?? [];
  if (!rule) return {};
  const limit = key ? params[key] : undefined;
  return { rule, ...(typeof limit === 'number' || typeof limit === 'string' ? { limit } : Array.isArray(limit) ? { limit: limit.join(', ') } : {}) };
}

/** A request failed validation. `issues` name every bad field and its limit. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  readonly code = 'invalid_request';
  constructor(readonly issues: RequestIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

const describe = (value: unknown) => (typeof value === 'string' ? (value.length > 40 || value.length === 0 ? `${value.length} characters` : JSON.stringify(value)) : JSON.stringify(value));

function valueAt(root: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), root);
}

/**
 * Applies defaults and validates an incoming request (JSON from the network or the form).
 * @returns the request with defaults filled in; `prompt` and `negative_prompt` are kept as typed.
 * @throws RequestValidationError naming each bad field, its limit and the value received.
 */
export function parseGenerateRequest(input: unknown): GenerateRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequestValidationError([{ field: '(body)', message: 'must be a JSON object', rule: 'not_object' }]);
  }
  const value = Value.Default(GenerateRequestSchema, structuredCloneJson(input)) as Record<string, unknown>;
  const issues: RequestIssue[] = [];
  // Unknown fields are one issue, reported apart: TypeBox buffers at most `maxErrors` (8) errors, and a body
  // full of unknown fields must not crowd out the known fields' errors.
  const unknown = unknownFields(value);
  if (unknown.length) issues.push({ field: '(body)', message: `unknown field(s) ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''}`, rule: 'unknown_field', limit: unknown.join(', ') });
  const known = Object.fromEntries(Object.entries(value).filter(([k]) => !unknown.includes(k)));
  const seen = new Set<string>();
  for (const error of Value.Errors(GenerateRequestSchema, known)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const field of missing.filter((f) => !seen.has(f))) {
        seen.add(field);
        issues.push({ field, message: 'is required', rule: 'required' });
      }
      continue;
    }
    const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)';
    if (error.keyword === 'boolean' || seen.has(field)) continue;
    seen.add(field);
    if (error.keyword === 'additionalProperties') {
      // unknown fields inside a nested object (`ad`, `ad.copy`)
      const extra = ((error.params as { additionalProperties?: string[] }).additionalProperties ?? []).map(String);
      issues.push({ field, message: `unknown field(s) ${extra.join(', ')}`, rule: 'unknown_field', limit: extra.join(', ') });
      continue;
    }
    const got = field === '(body)' ? '' : ` (got ${describe(valueAt(known, field))})`;
    const allowed = (error.params as { allowedValues?: unknown[] }).allowedValues;
    issues.push({ field, message: allowed ? `must be one of ${allowed.join(', ')}${got}` : `${error.message}${got}`, ...ruleOf(error.keyword, error.params as Record<string, unknown>) });
  }
  // prompt or ad.text is required (the prompt node builds the prompt from ad.text)
  const ad = known['ad'];
  const adText = ad && typeof ad === 'object' ? (ad as Record<string, unknown>)['text'] : undefined;
  if (known['prompt'] === undefined && adText === undefined && !seen.has('prompt')) issues.unshift({ field: 'prompt', message: 'is required', rule: 'required' });
  // the error list is capped; the exhaustive check decides
  if (!issues.length && !Value.Check(GenerateRequestSchema, known)) issues.push({ field: '(body)', message: 'does not match the request schema', rule: 'schema' });
  if (issues.length) throw new RequestValidationError(issues);
  const request = known as GenerateRequest;
  if (request.prompt !== undefined && request.prompt.trim() === '') issues.push({ field: 'prompt', message: 'must contain some text (got only whitespace)', rule: 'blank' });
  if (request.ad?.text !== undefined && request.ad.text.trim() === '') issues.push({ field: 'ad.text', message: 'must contain some text (got only whitespace)', rule: 'blank' });
  if (request.ad?.copy) issues.push(...copyIssues(request.ad.copy));
  const noStep = request.image === undefined ? undefined : strengthIssue(request.num_inference_steps, request.strength ?? DEFAULT_STRENGTH);
  if (noStep) issues.push(noStep);
  if (issues.length) throw new RequestValidationError(issues);
  return request;
}

/** diffusers `StableDiffusionXLImg2ImgPipeline.__call__` default strength. */
export const DEFAULT_STRENGTH = 0.3;

/**
 * Denoising steps image-to-image runs (diffusers `get_timesteps`): `init_timestep = min(int(n * strength), n)`.
 * @param numInferenceSteps the request's `num_inference_steps` (1 to 150).
 * @param strength in (0, 1].
 */
export function imageToImageSteps(numInferenceSteps: number, strength: number): number {
  return Math.min(Math.trunc(numInferenceSteps * strength), numInferenceSteps);
}

/** The `strength` issue when image-to-image would run no step, else undefined. */
export function strengthIssue(numInferenceSteps: number, strength: number): RequestIssue | undefined {
  if (imageToImageSteps(numInferenceSteps, strength) >= 1) return undefined;
  const least = Number((1 / numInferenceSteps).toFixed(3));
  return { field: 'strength', message: `${strength} of ${numInferenceSteps} steps runs no step; raise strength to at least ${(1 / numInferenceSteps).toFixed(3)} or add steps`, rule: 'no_step', limit: least };
}

/** What the overlay's own check (`validateAdCopy`: line breaks, control characters) says of the copy, as `ad.copy.*` issues. */
function copyIssues(copy: NonNullable<AdRequest['copy']>): RequestIssue[] {
  try {
    validateAdCopy(copy);
    return [];
  } catch (error) {
    if (!(error instanceof EngineError) || !error.issues) throw error;
    return error.issues.map((issue) => {
      const limit = COPY_LIMITS[issue.field as keyof typeof COPY_LIMITS];
      const tooLong = /characters/.test(issue.message) && limit !== undefined;
      return { field: `ad.copy.${issue.field}`, message: issue.message, rule: tooLong ? ('max_length' as const) : ('pattern' as const), ...(tooLong ? { limit } : {}) };
    });
  }
}

function unknownFields(value: unknown): string[] {
  const known = new Set(Object.keys(GenerateRequestSchema.properties));
  return Object.keys(value as object).filter((k) => !known.has(k));
}

/** Deep copy of plain JSON data (the request is JSON: no dates, maps or cycles). */
function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
