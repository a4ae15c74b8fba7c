/**
 * TypeBox schemas of the API's answers, for the OpenAPI document (`/docs`). Requests are validated by their
 * own code (`parseGenerateRequest`), not by these; the tests check real answers against them.
 */
import Type, { type TSchema } from 'typebox';
import { ERROR_CODES } from '../../../src/core/errors.ts';
import { GenerateRequestSchema } from '../../../src/core/request.ts';

const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
const DateTime = (description: string) => Type.String({ format: 'date-time', description });
const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, hex' });

/**
 * A copy of a TypeBox object schema as plain JSON Schema, where properties with a `default` are not required
 * (the server fills them in): what a client must send, as opposed to what the validated request holds.
 */
export function asSent(schema: TSchema): Record<string, unknown> {
  const copy = JSON.parse(JSON.stringify(schema)) as { required?: string[]; properties?: Record<string, { default?: unknown }> };
  if (copy.required && copy.properties) copy.required = copy.required.filter((key) => copy.properties![key]?.default === undefined);
  return copy;
}

/** The body of every error answer: `{error: {code, message, issues?}}`. */
export const ErrorBodySchema = Type.Object({
  error: Type.Object({
    code: Type.String({ enum: [...ERROR_CODES, 'not_found'], description: 'what went wrong, stable across releases' }),
    message: Type.String({ description: 'for people: the field, its limit and the value received' }),
    issues: Type.Optional(Type.Array(Type.Object({
        field: Type.String(),
        message: Type.String(),
        rule: Type.Optional(Type.String({ description: 'the kind of limit broken (IssueRule, src/core/request.ts)' })),
        limit: Type.Optional(Type.Union([Type.Number(), Type.String()], { description: "the rule's bound" })),
      }), { description: 'invalid_request: every bad field' })),
  }, { additionalProperties: true }),
});

/** One node of the ad workflow as recorded (`NodeRecord`, src/core/workflow/runner.ts). */
export const NodeRecordSchema = Type.Object({
  node: Type.String({ description: 'prompt, txt2img or img2img, layout, export' }),
  status: Type.Enum(['succeeded', 'failed', 'skipped', 'cancelled']),
  started_at: DateTime('when the node started'),
  duration_ms: Type.Number({ minimum: 0, description: 'wall time, milliseconds (0 when skipped)' }),
  error_code: Type.Optional(Type.String({ enum: [...ERROR_CODES], description: 'a failed or cancelled node: the error code' })),
  detail: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "small facts: the prompt's source and untranslated words, the steps, the layout's template, the PNG's bytes" })),
});

/** A job as `GET /api/generations/:id` shows it (`JobView` plus `image_url` and `raw_image_url`). */
export const JobSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  status: Type.Enum([...JOB_STATUSES]),
  request: Type.Omit(GenerateRequestSchema, ['image'], { description: 'the request as validated, defaults filled in and `model` resolved; a reference image is described in `reference_image`' }),
  reference_image: Type.Optional(Type.Object({ type: Type.String(), width: Type.Integer(), height: Type.Integer(), bytes: Type.Integer() })),
  queue_position: Type.Integer({ minimum: 0, description: 'jobs ahead while queued; 0 otherwise' }),
  progress: Type.Object({
    stage: Type.Enum(['queued', 'load', 'encode', 'denoise', 'decode', 'layout']),
    step: Type.Integer({ minimum: 0 }),
    total_steps: Type.Integer({ minimum: 0 }),
  }),
  result: Type.Optional(Type.Object({
    sha256: Sha256,
    raw_sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the PNG without the ad copy; only when the layout node applied copy' })),
    width: Type.Integer(),
    height: Type.Integer(),
    seed: Type.Integer(),
    execution_provider: Type.String(),
    timings: Type.Object({ encodeMs: Type.Number(), denoiseMs: Type.Number(), decodeMs: Type.Number(), totalMs: Type.Number(), runMs: Type.Number(), loadMs: Type.Number() }, { description: 'milliseconds per stage' }),
    step_ms: Type.Array(Type.Number(), { description: 'each denoising step, milliseconds' }),
    truncated: Type.Object({ prompt: Type.Optional(Type.String()), negative_prompt: Type.Optional(Type.String()) }, { description: 'text cut from each prompt to fit 77 tokens' }),
  })),
  error: Type.Optional(ErrorBodySchema.properties.error),
  nodes: Type.Optional(Type.Array(NodeRecordSchema, { description: 'the ad workflow of the run that ended the job, node by node (prompt, txt2img | img2img, layout, export); absent before it ends' })),
  attempts: Type.Integer({ minimum: 0, description: 'starts so far (2 after a crash re-queued it)' }),
  created_at: DateTime('accepted'),
  started_at: Type.Optional(DateTime('last start')),
  finished_at: Type.Optional(DateTime('ended')),
  image_url: Type.Optional(Type.String({ description: 'the PNG, when succeeded (with the ad copy when the request had copy)' })),
  raw_image_url: Type.Optional(Type.String({ description: 'the PNG without the ad copy, when the layout node applied copy (to edit the copy without generating again)' })),
});

export const JobListSchema = Type.Object({
  jobs: Type.Array(JobSchema),
  next_cursor: Type.Optional(Type.Integer({ description: 'pass back as `cursor` for the next page; absent on the last' })),
});

export const QuotaSchema = Type.Object({
  limit: Type.Union([Type.Integer(), Type.Null()], { description: 'renders a day; null: unlimited' }),
  used: Type.Integer(),
  remaining: Type.Union([Type.Integer(), Type.Null()]),
  resets_at: DateTime('the next UTC midnight'),
});

export const ModelsSchema = Type.Object({
  default_model: Type.String(),
  models: Type.Array(Type.Object({ id: Type.String(), manifest_url: Type.String() })),
  style_models: Type.Record(Type.String(), Type.String(), { description: 'the package id that renders each style (ultra_realistic, semi_realistic, anime)' }),
  translation_model: Type.Union([Type.String(), Type.Null()], { description: 'the Korean -> English translation package (its manifest at /models/<id>/manifest.json) that builds prompts from Korean ad.text; null: the glossary does' }),
});

export const HealthSchema = Type.Object({ ok: Type.Boolean(), execution_provider: Type.String(), models: Type.Array(Type.String()) });
export const LivenessSchema = Type.Object({ ok: Type.Boolean() });

/** `GET /readyz`: 200 when ready. */
export const ReadinessSchema = Type.Object({
  ready: Type.Boolean(),
  execution_provider: Type.String({ description: 'onnxruntime-node execution provider: cpu, webgpu or cuda' }),
  loaded_model: Type.Union([Type.String(), Type.Null()], { description: 'the checkpoint the render engine holds; null before the first job' }),
  queue: Type.Object({ depth: Type.Integer({ description: 'jobs waiting' }), running: Type.Integer({ description: 'jobs running' }) }),
});

/** `GET /readyz`: 503 when the render engine cannot start. */
export const NotReadySchema = Type.Object({ ready: Type.Boolean(), error: ErrorBodySchema.properties.error });
