import type { OnnxSession, ValueInfo } from '../../runtime.ts';
import type { Tensor } from '../../tensor.ts';
import type { SdxlComponent } from '../../loading/modelPackage.ts';

/** Expected element types and rank of one graph input or output. */
interface ValueRule {
  types: readonly string[];
  rank: readonly number[];
}

const FLOAT = ['float32', 'float16'] as const;
const IDS = ['int32', 'int64'] as const;

/**
 * Inputs and outputs of an optimum / diffusers ONNX export of SDXL, per component
 * (optimum `exporters/onnx/model_configs.py`: `CLIPTextOnnxConfig`, `CLIPTextWithProjectionOnnxConfig`,
 * `UNetOnnxConfig`, `VaeDecoderOnnxConfig`, `VaeEncoderOnnxConfig`). Names ending in `.` or `_` are prefixes
 * (`hidden_states.N`; the encoder's `latent_sample` or `latent_parameters`).
 * `timestep` is rank 1 (`[batch]`) in older exports and rank 0 in newer ones.
 */
export const SDXL_CONTRACT: Record<SdxlComponent, { inputs: Record<string, ValueRule>; outputs: Record<string, ValueRule> }> = {
  text_encoder: {
    inputs: { input_ids: { types: IDS, rank: [2] } },
    outputs: { last_hidden_state: { types: FLOAT, rank: [3] }, 'hidden_states.': { types: FLOAT, rank: [3] } },
  },
  text_encoder_2: {
    inputs: { input_ids: { types: IDS, rank: [2] } },
    outputs: { text_embeds: { types: FLOAT, rank: [2] }, last_hidden_state: { types: FLOAT, rank: [3] }, 'hidden_states.': { types: FLOAT, rank: [3] } },
  },
  unet: {
    inputs: {
      sample: { types: FLOAT, rank: [4] },
      timestep: { types: [...FLOAT, 'int64'], rank: [0, 1] },
      encoder_hidden_states: { types: FLOAT, rank: [3] },
      text_embeds: { types: FLOAT, rank: [2] },
      time_ids: { types: FLOAT, rank: [2] },
    },
    outputs: { out_sample: { types: FLOAT, rank: [4] } },
  },
  vae_decoder: {
    inputs: { latent_sample: { types: FLOAT, rank: [4] } },
    outputs: { sample: { types: FLOAT, rank: [4] } },
  },
  // `latent_sample` (older optimum: a latent, C channels) or `latent_parameters` (newer: mean and log-variance)
  vae_encoder: {
    inputs: { sample: { types: FLOAT, rank: [4] } },
    outputs: { 'latent_': { types: FLOAT, rank: [4] } },
  },
};

/** A component's graph does not match the SDXL export contract, or a feed does not match its graph. */
export class ModelContractError extends Error {
  override readonly name = 'ModelContractError';
  readonly code = 'model_package';
}

function checkValue(component: string, kind: string, rule: ValueRule, info: ValueInfo): void {
  if (!rule.types.includes(info.type)) {
    throw new ModelContractError(`${component}: ${kind} "${info.name}" is ${info.type}, expected ${rule.types.join(' or ')}`);
  }
  if (!rule.rank.includes(info.shape.length)) {
    throw new ModelContractError(`${component}: ${kind} "${info.name}" has rank ${info.shape.length}, expected ${rule.rank.join(' or ')}`);
  }
}

/**
 * Checks a loaded session against `SDXL_CONTRACT`: every contract input and output is present with an
 * allowed type and rank, and the graph has no inputs the pipeline would not feed.
 * @throws ModelContractError naming the component, the value and the mismatch.
 */
export function checkSessionContract(component: SdxlComponent, session: OnnxSession): void {
  const contract = SDXL_CONTRACT[component];
  const inputs = new Map(session.inputs.map((i) => [i.name, i]));
  for (const [name, rule] of Object.entries(contract.inputs)) {
    const info = inputs.get(name);
    if (!info) throw new ModelContractError(`${component}: input "${name}" is missing (has ${[...inputs.keys()].join(', ')})`);
    checkValue(component, 'input', rule, info);
  }
  const extra = session.inputs.filter((i) => !(i.name in contract.inputs));
  if (extra.length) throw new ModelContractError(`${component}: unexpected input(s) ${extra.map((i) => i.name).join(', ')}`);
  for (const [name, rule] of Object.entries(contract.outputs)) {
    const prefix = name.endsWith('.') || name.endsWith('_');
    const matches = session.outputs.filter((o) => (prefix ? o.name.startsWith(name) : o.name === name));
    if (!matches.length) throw new ModelContractError(`${component}: output "${name}${prefix ? '...' : ''}" is missing`);
    for (const info of matches) checkValue(component, 'output', rule, info);
  }
}

/**
 * Checks feeds against the session's declared inputs before a run: every input fed, with its element
 * type, rank, and each fixed dimension.
 * @throws ModelContractError naming the input and the mismatch.
 */
export function checkFeeds(component: string, session: OnnxSession, feeds: Record<string, Pick<Tensor, 'type' | 'dims'>>): void {
  for (const info of session.inputs) {
    const feed = feeds[info.name];
    if (!feed) throw new ModelContractError(`${component}: no feed for input "${info.name}"`);
    if (feed.type !== info.type) throw new ModelContractError(`${component}: "${info.name}" fed as ${feed.type}, graph wants ${info.type}`);
    if (feed.dims.length !== info.shape.length) {
      throw new ModelContractError(`${component}: "${info.name}" fed with dims [${feed.dims}], graph wants rank ${info.shape.length}`);
    }
    info.shape.forEach((d, axis) => {
      if (typeof d === 'number' && d >= 0 && feed.dims[axis] !== d) {
        throw new ModelContractError(`${component}: "${info.name}" axis ${axis} is ${feed.dims[axis]}, graph fixes it at ${d}`);
      }
    });
  }
}
