import type { OnnxSession } from '../../runtime.ts';
import { asFloat32, float32, intTensor, type Float32Tensor, type TensorType } from '../../tensor.ts';
import type { ClipTokenizer } from '../../tokenizers/clipTokenizer.ts';
import { checkFeeds } from './contract.ts';
import type { SdxlPipeline } from './load.ts';

/** Text conditioning for a batch of prompts. */
export interface PromptEmbeds {
  /** `[batch, 77, D1 + D2]`: penultimate hidden states of text_encoder and text_encoder_2, concatenated. */
  promptEmbeds: Float32Tensor;
  /** `[batch, P]`: `text_embeds` (projected pooled output) of text_encoder_2. */
  pooledPromptEmbeds: Float32Tensor;
  /** Per prompt, the text cut to fit 77 tokens (by the first tokenizer; the second cuts the same). */
  truncated: string[];
}

/** `hidden_states.N` with the largest N is the last layer; SDXL conditions on the one before it. */
function penultimateHiddenState(session: OnnxSession): string {
  const indices = session.outputs
    .map((o) => /^hidden_states\.(\d+)$/.exec(o.name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]));
  return `hidden_states.${Math.max(...indices) - 1}`;
}

async function runTextEncoder(
  component: 'text_encoder' | 'text_encoder_2',
  session: OnnxSession,
  tokenizer: ClipTokenizer,
  prompts: readonly string[],
): Promise<{ hidden: Float32Tensor; pooled?: Float32Tensor; truncated: string[] }> {
  const encodings = prompts.map((p) => tokenizer.encode(p));
  const idsType = session.inputs[0]!.type as TensorType;
  const ids = intTensor(encodings.flatMap((e) => e.inputIds), [prompts.length, tokenizer.options.maxLength], idsType);
  const hiddenName = penultimateHiddenState(session);
  const wanted = component === 'text_encoder_2' ? [hiddenName, 'text_embeds'] : [hiddenName];
  const feeds = { input_ids: ids };
  checkFeeds(component, session, feeds);
  const out = await session.run(feeds, wanted);
  return {
    hidden: asFloat32(out[hiddenName]!),
    pooled: component === 'text_encoder_2' ? asFloat32(out['text_embeds']!) : undefined,
    truncated: encodings.map((e) => e.truncatedText),
  };
}

/** Concatenates `[B, S, D1]` and `[B, S, D2]` on the last axis (`torch.concat(prompt_embeds_list, dim=-1)`). */
export function concatLastAxis(a: Float32Tensor, b: Float32Tensor): Float32Tensor {
  const [batch, seq, d1] = a.dims as [number, number, number];
  const d2 = b.dims[2]!;
  if (b.dims[0] !== batch || b.dims[1] !== seq) throw new RangeError(`cannot concat [${a.dims}] and [${b.dims}]`);
  const out = new Float32Array(batch * seq * (d1 + d2));
  for (let row = 0; row < batch * seq; row++) {
    out.set(a.data.subarray(row * d1, (row + 1) * d1), row * (d1 + d2));
    out.set(b.data.subarray(row * d2, (row + 1) * d2), row * (d1 + d2) + d1);
  }
  return float32(out, [batch, seq, d1 + d2]);
}

/**
 * Encodes prompts as diffusers `StableDiffusionXLPipeline.encode_prompt` does for `prompt_2 = prompt`:
 * each prompt goes through both tokenizers (padded to 77) and both text encoders; the penultimate hidden
 * states are concatenated on the last axis and the pooled `text_embeds` come from text_encoder_2.
 * Several prompts run as one batch; the encoders run one after the other (onnxruntime-web does not
 * promise concurrent runs).
 * @param prompts e.g. `[negative_prompt, prompt]` for classifier-free guidance.
 */
export async function encodePrompt(pipe: SdxlPipeline, prompts: readonly string[]): Promise<PromptEmbeds> {
  const first = await runTextEncoder('text_encoder', await pipe.session('text_encoder'), pipe.tokenizer, prompts);
  const second = await runTextEncoder('text_encoder_2', await pipe.session('text_encoder_2'), pipe.tokenizer2, prompts);
  return { promptEmbeds: concatLastAxis(first.hidden, second.hidden), pooledPromptEmbeds: second.pooled!, truncated: first.truncated };
}

/** `torch.zeros_like` for the empty negative prompt when `force_zeros_for_empty_prompt` is set. */
export function zerosLike(t: Float32Tensor): Float32Tensor {
  return float32(new Float32Array(t.data.length), t.dims);
}
