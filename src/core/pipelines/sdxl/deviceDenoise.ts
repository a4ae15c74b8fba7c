/**
 * The denoising loop kept on the device (WebGPU): the constant feeds (`encoder_hidden_states`, `text_embeds`,
 * `time_ids`) are uploaded once, the UNet's `out_sample` stays in GPU memory, and a small ONNX graph built
 * here does classifier-free guidance and the Euler step on the GPU, so latents are read back only when a
 * preview asks for them and once at the end. The graph does diffusers' float32 operations in the same order
 * as `applyGuidance` and `EulerDiscreteScheduler.step` on the host (WGSL division is within 2.5 ULP where the
 * host's is exact: the images agree within the browser/server tolerance).
 */
import { writeOnnxModel, type NodeSpec } from '../../onnx/modelWriter.ts';
import type { DeviceTensor, Feed, OnnxSession } from '../../runtime.ts';
import { EulerDiscreteScheduler } from '../../schedulers/eulerDiscrete.ts';
import type { Scheduler } from '../../schedulers/index.ts';
import { asFloat32, castFloat, concatBatch, float32, type Float32Tensor, type Tensor, type TensorType } from '../../tensor.ts';
import { checkFeeds } from './contract.ts';
import type { SdxlPipeline } from './load.ts';

/**
 * Whether this generation's loop can stay on the device: the runtime has one and the UNet runs there, the
 * sampler is Euler (the SDXL base default, Euler Karras, SDXL-Turbo) predicting epsilon, and no guidance
 * rescale (which needs whole-tensor statistics) is asked for. Other samplers step on the host.
 */
export function canDenoiseOnDevice(pipe: SdxlPipeline, unet: OnnxSession, scheduler: Scheduler, guidanceRescale: number): scheduler is EulerDiscreteScheduler {
  return Boolean(pipe.device && unet.runOnDevice) && scheduler instanceof EulerDiscreteScheduler && scheduler.predictsEpsilon && guidanceRescale === 0;
}

/**
 * The step graph: `noise_pred` (the UNet's `out_sample`, its dtype) and `latents` (float32) in;
 * `prev_latents` and the next UNet `next_sample` (scaled, doubled for guidance, in the UNet's sample dtype)
 * out. Scalars `guidance`, `sigma`, `dt`, `next_denominator` come from the host each step.
 */
export function eulerStepModel(guided: boolean, outType: TensorType, sampleType: TensorType): Uint8Array {
  const nodes: NodeSpec[] = [];
  const batch = guided ? 2 : 1;
  let pred = 'noise_pred';
  if (outType !== 'float32') nodes.push({ op: 'Cast', inputs: [pred], outputs: ['noise_pred_f32'], attrs: { to: 1 } }), (pred = 'noise_pred_f32');
  if (guided) {
    // noise_uncond + guidance_scale * (noise_text - noise_uncond)
    nodes.push({ op: 'Split', inputs: [pred], outputs: ['uncond', 'text'], attrs: { axis: 0 } });
    nodes.push({ op: 'Sub', inputs: ['text', 'uncond'], outputs: ['text_minus_uncond'] });
    nodes.push({ op: 'Mul', inputs: ['guidance', 'text_minus_uncond'], outputs: ['guided_delta'] });
    nodes.push({ op: 'Add', inputs: ['uncond', 'guided_delta'], outputs: ['guided'] });
    pred = 'guided';
  }
  // x0 = x - sigma * eps; d = (x - x0) / sigma; x' = x + d * dt
  nodes.push({ op: 'Mul', inputs: ['sigma', pred], outputs: ['sigma_eps'] });
  nodes.push({ op: 'Sub', inputs: ['latents', 'sigma_eps'], outputs: ['pred_original'] });
  nodes.push({ op: 'Sub', inputs: ['latents', 'pred_original'], outputs: ['x_minus_x0'] });
  nodes.push({ op: 'Div', inputs: ['x_minus_x0', 'sigma'], outputs: ['derivative'] });
  nodes.push({ op: 'Mul', inputs: ['derivative', 'dt'], outputs: ['delta'] });
  nodes.push({ op: 'Add', inputs: ['latents', 'delta'], outputs: ['prev_latents'] });
  // the next UNet input: x' / sqrt(sigma_next^2 + 1), twice for guidance, in the UNet's dtype
  nodes.push({ op: 'Div', inputs: ['prev_latents', 'next_denominator'], outputs: ['scaled'] });
  let next = 'scaled';
  if (guided) nodes.push({ op: 'Concat', inputs: ['scaled', 'scaled'], outputs: ['scaled_batch'], attrs: { axis: 0 } }), (next = 'scaled_batch');
  nodes.push(sampleType === 'float32' ? { op: 'Identity', inputs: [next], outputs: ['next_sample'] } : { op: 'Cast', inputs: [next], outputs: ['next_sample'], attrs: { to: 10 } });
  const scalar = (name: string) => ({ name, type: 'float32' as const, dims: [] });
  return writeOnnxModel('euler_step', {
    inputs: [
      { name: 'noise_pred', type: outType, dims: [batch, 'channels', 'height', 'width'] },
      { name: 'latents', type: 'float32', dims: [1, 'channels', 'height', 'width'] },
      ...(guided ? [scalar('guidance')] : []),
      scalar('sigma'),
      scalar('dt'),
      scalar('next_denominator'),
    ],
    outputs: [
      { name: 'prev_latents', type: 'float32', dims: [1, 'channels', 'height', 'width'] },
      { name: 'next_sample', type: sampleType, dims: [batch, 'channels', 'height', 'width'] },
    ],
    nodes,
  });
}

const scalar = (value: number): Tensor => float32(new Float32Array([value]), []);
const typeOf = (session: OnnxSession, name: string, outputs = false) => (outputs ? session.outputs : session.inputs).find((i) => i.name === name)!.type as TensorType;

/**
 * Runs the denoising loop on the device from `latents` (float32 `[1, C, h, w]`) over `timesteps`.
 * @param constantFeeds the UNet feeds that stay the same every step, already in the UNet's dtypes.
 * @param timestepFeed the UNet `timestep` feed for a timestep (host data: a few bytes).
 * @param onStep after each step, with its number (from 1) and, when `wantLatents(step)`, the latents read back.
 * @returns the final latents, read back once.
 */
export async function denoiseOnDevice(options: {
  pipe: SdxlPipeline;
  unet: OnnxSession;
  scheduler: EulerDiscreteScheduler;
  timesteps: Float32Array;
  latents: Float32Tensor;
  constantFeeds: Record<string, Tensor>;
  timestepFeed: (t: number) => Tensor;
  guidanceScale?: number;
  checkCancel: () => void;
  wantLatents: (step: number) => boolean;
  onStep: (step: number, latents?: Float32Tensor) => void;
}): Promise<Float32Tensor> {
  const { pipe, unet, scheduler, timesteps, guidanceScale, checkCancel } = options;
  const device = pipe.device!;
  const guided = guidanceScale !== undefined;
  const sampleType = typeOf(unet, 'sample');
  const step = await pipe.auxiliarySession(`euler_step|${guided}|${typeOf(unet, 'out_sample', true)}|${sampleType}`, () =>
    eulerStepModel(guided, typeOf(unet, 'out_sample', true), sampleType),
  );
  const held = new Set<DeviceTensor>();
  const upload = async (t: Tensor) => {
    const d = await device.upload(t);
    held.add(d);
    return d;
  };
  const drop = (d: DeviceTensor) => {
    held.delete(d);
    device.dispose(d);
  };
  try {
    const constants: Record<string, Feed> = {};
    for (const [name, t] of Object.entries(options.constantFeeds)) constants[name] = await upload(t);
    const first = scheduler.scaleModelInput(options.latents, timesteps[0]!);
    let latents = await upload(options.latents);
    let sample = await upload(castFloat(guided ? concatBatch([first, first]) : first, sampleType));
    for (let i = 0; i < timesteps.length; i++) {
      checkCancel();
      const t = timesteps[i]!;
      const feeds: Record<string, Feed> = { sample, timestep: options.timestepFeed(t), ...constants };
      checkFeeds('unet', unet, feeds);
      const out = (await unet.runOnDevice!(feeds, ['out_sample']))['out_sample']!;
      held.add(out);
      const { sigma, dt, nextInputDenominator } = scheduler.stepScalars(t);
      const stepFeeds: Record<string, Feed> = {
        noise_pred: out,
        latents,
        ...(guided ? { guidance: scalar(guidanceScale) } : {}),
        sigma: scalar(sigma),
        dt: scalar(dt),
        next_denominator: scalar(nextInputDenominator),
      };
      const next = await step.runOnDevice!(stepFeeds, ['prev_latents', 'next_sample']);
      drop(out);
      drop(latents);
      drop(sample);
      latents = next['prev_latents']!;
      sample = next['next_sample']!;
      held.add(latents).add(sample);
      options.onStep(i + 1, options.wantLatents(i + 1) ? asFloat32(await device.download(latents)) : undefined);
    }
    return asFloat32(await device.download(latents));
  } finally {
    for (const d of held) device.dispose(d);
  }
}
