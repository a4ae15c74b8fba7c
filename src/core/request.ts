import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/** Longest prompt accepted, in characters (CLIP keeps 75 tokens; the rest is reported as cut). */
export const MAX_PROMPT_CHARS = 2000;
/** Image side limits in pixels; sides are multiples of 8 (one latent cell). */
export const MIN_SIDE = 32;
export const MAX_SIDE = 2048;
export const MAX_STEPS = 150;
export const MAX_GUIDANCE = 30;
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/**
 * The one generation request, shared by the app, the browser worker and the server, validated on every
 * side with the same schema. Field names follow diffusers' `StableDiffusionXLPipeline.__call__`.
 */
export const GenerateRequestSchema = Type.Object(
  {
    model: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$', description: 'model package id; the server default when omitted' })),
    prompt: Type.String({ minLength: 1, maxLength: MAX_PROMPT_CHARS }),
    negative_prompt: Type.String({ maxLength: MAX_PROMPT_CHARS, default: '' }),
    width: Type.Integer({ minimum: MIN_SIDE, maximum: MAX_SIDE, multipleOf: 8, description: 'pixels' }),
    height: Type.Integer({ minimum: MIN_SIDE, maximum: MAX_SIDE, multipleOf: 8, description: 'pixels' }),
    num_inference_steps: Type.Integer({ minimum: 1, maximum: MAX_STEPS, default: 40 }),
    guidance_scale: Type.Number({ minimum: 0, maximum: MAX_GUIDANCE, default: 7.5, description: '<= 1 disables classifier-free guidance' }),
    seed: Type.Integer({ minimum: 0, maximum: MAX_SEED, description: 'torch.manual_seed value; only seed mod 2^32 matters' }),
  },
  { additionalProperties: false },
);

export type GenerateRequest = Static<typeof GenerateRequestSchema>;

/** One problem with a request: the field (JSON path without the leading slash) and what is wrong. */
export interface RequestIssue {
  field: string;
  message: string;
}

/** A request failed validation. `issues` name every bad field and its limit. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(readonly issues: RequestIssue[]) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '));
  }
}

const describe = (value: unknown) => (typeof value === 'string' ? `${value.length} characters` : JSON.stringify(value));

/**
 * Applies defaults and validates an incoming request (JSON from the network or the form).
 * @returns the request with defaults filled in; `prompt` and `negative_prompt` are kept as typed.
 * @throws RequestValidationError naming each bad field, its limit and the value received.
 */
export function parseGenerateRequest(input: unknown): GenerateRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequestValidationError([{ field: '(body)', message: 'must be a JSON object' }]);
  }
  const value = Value.Default(GenerateRequestSchema, structuredCloneJson(input));
  const issues: RequestIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(GenerateRequestSchema, value)) {
    if (error.keyword === 'required') {
      const missing = (error.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      for (const field of missing.filter((f) => !seen.has(f))) {
        seen.add(field);
        issues.push({ field, message: 'is required' });
      }
      continue;
    }
    const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(body)';
    if (error.keyword === 'boolean' || seen.has(field)) continue; // additionalProperties reports twice
    seen.add(field);
    const got = field === '(body)' ? '' : ` (got ${describe((value as Record<string, unknown>)[field])})`;
    const message = error.keyword === 'additionalProperties' ? `unknown field(s) ${unknownFields(value).join(', ')}` : `${error.message}${got}`;
    issues.push({ field, message });
  }
  const request = value as GenerateRequest;
  if (!issues.some((i) => i.field === 'prompt') && request.prompt.trim() === '') {
    issues.push({ field: 'prompt', message: 'must contain some text (got only whitespace)' });
  }
  if (issues.length) throw new RequestValidationError(issues);
  return request;
}

function unknownFields(value: unknown): string[] {
  const known = new Set(Object.keys(GenerateRequestSchema.properties));
  return Object.keys(value as object).filter((k) => !known.has(k));
}

/** Deep copy of plain JSON data (the request is JSON: no dates, maps or cycles). */
function structuredCloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
