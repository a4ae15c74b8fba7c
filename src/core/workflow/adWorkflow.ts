/**
 * The ad workflow as nodes, the same in the browser worker and on the server:
 *
 *   prompt -> txt2img | img2img -> layout -> export
 *
 * `prompt` resolves the request (the English prompt built from the owner's `ad.text`, or `prompt` as typed);
 * one generation node runs SDXL (`img2img` when the request has a reference `image`) and gives RGBA pixels;
 * `layout` lays `ad.copy` over them at full resolution (skipped without copy); `export` encodes the PNG(s),
 * once, from RGBA. Each node is recorded by `WorkflowRunner` (status, start, duration, error code, facts).
 * Platform-free: the generation, the overlay's fonts and rasteriser, and optionally the PNG encoder are injected.
 */
import { encodePng } from '../image/png.ts';
import { assertRgbaImage, type RgbaImage } from '../image/rgba.ts';
import { renderAdCopyLayers, TEXT_FIELDS, type AdCopy, type RenderOptions } from '../overlay/index.ts';
import { buildPromptTranslated, type BuildOptions, type BuiltPrompt, type TextTranslator } from '../prompt/index.ts';
import { DEFAULT_STRENGTH, hasPrompt, imageToImageSteps, requireResolved, type GenerateRequest, type ResolvedRequest } from '../request.ts';
import type { CancelSignal } from '../types.ts';
import { WorkflowRunner, type NodeDetail, type NodeRecord, type NodeResult } from './runner.ts';

/** The workflow's node names, in order (one of `txt2img` / `img2img` runs). */
export const AD_WORKFLOW_NODES = ['prompt', 'txt2img', 'img2img', 'layout', 'export'] as const;
export type AdWorkflowNode = (typeof AD_WORKFLOW_NODES)[number];

/** The least a generation must give: RGBA pixels (straight alpha, row-major) and their size. */
export interface GeneratedPixels {
  rgba: Uint8Array;
  width: number;
  height: number;
}

/** What the host plugs in. */
export interface AdWorkflowDeps<G extends GeneratedPixels> {
  /** SDXL on this side: the pipeline's `generateRgba` (or `generate`) bound to a loaded pipeline. */
  generate: (request: ResolvedRequest) => Promise<G>;
  /** The overlay's fonts and rasteriser; called only when the request has copy to lay out (load lazily). */
  overlay: () => Promise<RenderOptions>;
  /** PNG encoder for the export node (default: core `encodePng`). */
  encodePng?: (image: RgbaImage) => Uint8Array | Promise<Uint8Array>;
  /** Options of the prompt builder (a real CLIP token counter). */
  promptOptions?: BuildOptions;
  /**
   * The registered translation model, loaded on first use; resolves undefined when none is registered (the
   * glossary translates). Called only for `ad.text` with Korean in it.
   */
  translator?: () => Promise<TextTranslator | undefined>;
}

export interface AdWorkflowOptions {
  /** Checked before each node (and by the host's generation between steps). */
  signal?: CancelSignal;
  /** Monotonic clock, milliseconds (default `Date.now`). */
  now?: () => number;
  /** Told `{ stage: 'layout' }` before the layout node runs. */
  onProgress?: (event: { stage: 'layout' }) => void;
}

/** One run's result. */
export interface AdWorkflowResult<G extends GeneratedPixels> {
  /** The final image as a PNG (with the copy when the layout node applied it). */
  png: Uint8Array;
  /** The picture without the copy, as a PNG; only when the layout node applied copy (the page edits the copy later). */
  rawPng?: Uint8Array;
  width: number;
  height: number;
  /** The request the generation ran (its prompt resolved). */
  request: ResolvedRequest;
  /** The built prompt, when it came from `ad.text`. */
  prompt?: BuiltPrompt;
  /** The generation's own facts (seed, timings, execution provider, ...), without its pixels. */
  generation: Omit<G, 'rgba' | 'png'>;
  /** Every node run (and skipped), in order. */
  nodes: NodeRecord[];
}

const DEFAULT_STYLE = 'ultra_realistic';

/**
 * The prompt node: the request as typed when it has `prompt`; otherwise the English prompt built from `ad.text`
 * (`buildPromptTranslated` with the request's style, `ultra_realistic` when none, and `ad.industry`: the
 * translation model from `translator` when one is registered and the text has Korean, else the glossary), whose
 * negative prompt is used when the request's `negative_prompt` is empty.
 * @throws RequestValidationError `prompt` `required` when the request has neither; EngineError `invalid_request`
 *   from the builder; the translation model's errors.
 */
export async function promptNode(
  request: GenerateRequest,
  options: BuildOptions = {},
  translator?: () => Promise<TextTranslator | undefined>,
): Promise<NodeResult<{ request: ResolvedRequest; built?: BuiltPrompt }>> {
  if (hasPrompt(request)) return { output: { request }, detail: { source: 'request' } };
  const text = request.ad?.text;
  if (text === undefined) requireResolved(request);
  const input = { text: text!, style: request.style ?? DEFAULT_STYLE, ...(request.ad?.industry ? { industry: request.ad.industry } : {}) };
  const model = translator && /\p{Script=Hangul}/u.test(text!) ? await translator() : undefined;
  const built = await buildPromptTranslated(input, model, options);
  const ownNegative = request.negative_prompt.trim() !== '';
  const resolved: ResolvedRequest = { ...request, prompt: built.prompt, negative_prompt: ownNegative ? request.negative_prompt : built.negative_prompt };
  return {
    output: { request: resolved, built },
    detail: {
      source: 'ad.text',
      prompt: built.prompt,
      style: built.style,
      industry: built.industry,
      negative_prompt: ownNegative ? 'request' : 'style',
      tokens: built.tokens,
      over_limit: built.over_limit,
      untranslated: built.untranslated,
      removed_text: built.removed_text,
      dropped: built.dropped,
      translated_by: built.translation ? built.translation.model : 'glossary',
      ...(built.translation ? { translation: built.translation.text } : {}),
    },
  };
}

/** Primitive facts a generation result may carry, recorded in the generation node's detail. */
const GENERATION_FACTS: Record<string, string> = { executionProvider: 'execution_provider', denoisedOn: 'denoised_on', fp32VaeRetry: 'fp32_vae_retry' };

/**
 * The generation node (`txt2img` or `img2img`): runs `generate` and checks its pixels.
 * @throws whatever `generate` throws; RangeError for pixels that do not match their size.
 */
export async function generationNode<G extends GeneratedPixels>(request: ResolvedRequest, generate: (request: ResolvedRequest) => Promise<G>): Promise<NodeResult<{ image: RgbaImage; generation: G }>> {
  const generation = await generate(request);
  const image: RgbaImage = { width: generation.width, height: generation.height, data: generation.rgba };
  assertRgbaImage(image, 'generated image');
  const steps = request.image ? imageToImageSteps(request.num_inference_steps, request.strength ?? DEFAULT_STRENGTH) : request.num_inference_steps;
  const detail: NodeDetail = { steps, width: image.width, height: image.height, seed: request.seed };
  if (request.image) detail['strength'] = request.strength ?? DEFAULT_STRENGTH;
  if (request.scheduler) detail['scheduler'] = request.scheduler;
  for (const [key, name] of Object.entries(GENERATION_FACTS)) {
    const value = (generation as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') detail[name] = value;
  }
  return { output: { image, generation }, detail };
}

/** Whether the copy has any text to draw (before validation: blank fields do not count). */
export function hasCopyText(copy: AdCopy | undefined): copy is AdCopy {
  return copy !== undefined && copy !== null && TEXT_FIELDS.some((field) => typeof copy[field] === 'string' && copy[field]!.trim() !== '');
}

/**
 * The layout node: the copy over the picture at full resolution (`renderAdCopyLayers`: scrim where the picture
 * gives too little contrast, then the text). RGBA in, RGBA out, same size.
 * @throws EngineError `invalid_request` for copy the overlay refuses (naming the field).
 */
export async function layoutNode(image: RgbaImage, copy: AdCopy, overlay: RenderOptions): Promise<NodeResult<RgbaImage>> {
  const rendered = await renderAdCopyLayers(copy, image, overlay);
  if (!rendered) return { output: image, detail: { applied: false } };
  const { layout } = rendered;
  return {
    output: rendered.image,
    detail: { applied: true, template: layout.template, ratio: layout.ratio, align: layout.align, scrim_alpha: layout.scrimAlpha, fields: layout.blocks.map((b) => b.field) },
  };
}

/** The export node: the final image as a PNG, and the raw picture as a PNG when copy was laid over it. */
export async function exportNode(final: RgbaImage, raw: RgbaImage | undefined, encode: (image: RgbaImage) => Uint8Array | Promise<Uint8Array>): Promise<NodeResult<{ png: Uint8Array; rawPng?: Uint8Array }>> {
  const png = await encode(final);
  const rawPng = raw ? await encode(raw) : undefined;
  return {
    output: { png, ...(rawPng ? { rawPng } : {}) },
    detail: { format: 'png', width: final.width, height: final.height, bytes: png.byteLength, ...(rawPng ? { raw_bytes: rawPng.byteLength } : {}) },
  };
}

const encodeRgba = (image: RgbaImage) => encodePng(image.data, image.width, image.height);

/**
 * Runs the ad workflow: prompt -> txt2img | img2img -> layout -> export.
 * @param request a validated request (`parseGenerateRequest`): `prompt`, or `ad.text` to build it from.
 * @returns the PNG (and the raw PNG without the copy when copy was laid), the resolved request and the node records.
 * @throws WorkflowError with the failing node's code (`describeError`: `invalid_request`, `cancelled`, the
 *   pipeline's codes) and the records so far; no later node runs.
 */
export async function runAdWorkflow<G extends GeneratedPixels>(request: GenerateRequest, deps: AdWorkflowDeps<G>, options: AdWorkflowOptions = {}): Promise<AdWorkflowResult<G>> {
  const runner = new WorkflowRunner({ ...(options.signal ? { signal: options.signal } : {}), ...(options.now ? { now: options.now } : {}) });
  const resolved = await runner.run('prompt', () => promptNode(request, deps.promptOptions, deps.translator));
  const { image, generation } = await runner.run(resolved.request.image ? 'img2img' : 'txt2img', () => generationNode(resolved.request, deps.generate));
  const copy = resolved.request.ad?.copy;
  let final = image;
  let raw: RgbaImage | undefined;
  if (hasCopyText(copy)) {
    options.onProgress?.({ stage: 'layout' });
    final = await runner.run('layout', async () => layoutNode(image, copy, await deps.overlay()));
    if (final !== image) raw = image;
  } else {
    runner.skip('layout', { reason: copy ? 'the copy has no text' : 'no copy' });
  }
  const { png, rawPng } = await runner.run('export', () => exportNode(final, raw, deps.encodePng ?? encodeRgba));
  const { rgba: _rgba, png: _png, ...facts } = generation as G & { png?: unknown };
  return {
    png,
    ...(rawPng ? { rawPng } : {}),
    width: final.width,
    height: final.height,
    request: resolved.request,
    ...(resolved.built ? { prompt: resolved.built } : {}),
    generation: facts as Omit<G, 'rgba' | 'png'>,
    nodes: runner.nodes,
  };
}
