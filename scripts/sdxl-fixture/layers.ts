/**
 * Building blocks shared by the fixture's text encoders, UNet and VAE, emitted with the operators a
 * PyTorch (opset 17) export of the real modules uses: Linear as MatMul + Add, GroupNorm as
 * Reshape + InstanceNormalization + Reshape + Mul + Add, LayerNormalization, GELU via Erf, SiLU as
 * x * Sigmoid(x), attention as MatMul / Softmax / MatMul over heads.
 */
import type { OnnxGraph } from './onnxGraph.ts';

/** `nn.Linear(inFeatures, outFeatures)`: MatMul with the transposed weight, then Add. */
export function linear(g: OnnxGraph, x: string, inFeatures: number, outFeatures: number, bias = true): string {
  const weight = g.param('weight', [inFeatures, outFeatures], 1 / Math.sqrt(inFeatures));
  const y = g.node('MatMul', [x, weight]);
  return bias ? g.node('Add', [y, g.param('bias', [outFeatures], 0.02)]) : y;
}

/** `nn.Conv2d` with square kernel, `padding = kernel // 2` unless given. */
export function conv2d(g: OnnxGraph, x: string, inChannels: number, outChannels: number, kernel: number, stride = 1, padding = Math.floor(kernel / 2)): string {
  const weight = g.param('weight', [outChannels, inChannels, kernel, kernel], 1 / Math.sqrt(inChannels * kernel * kernel));
  const bias = g.param('bias', [outChannels], 0.02);
  return g.node('Conv', [x, weight, bias], {
    dilations: [1, 1],
    group: 1,
    kernel_shape: [kernel, kernel],
    pads: [padding, padding, padding, padding],
    strides: [stride, stride],
  });
}

/** `nn.GroupNorm(groups, channels, eps)` on NCHW, as torch exports it before opset 18. */
export function groupNorm(g: OnnxGraph, x: string, channels: number, groups: number, eps: number): string {
  const grouped = g.node('Reshape', [x, g.const([0, groups, -1])]);
  const normed = g.node('InstanceNormalization', [grouped, g.floatConst(new Array(groups).fill(1), [groups]), g.floatConst(new Array(groups).fill(0), [groups])], {
    epsilon: { float: eps },
  });
  const restored = g.node('Reshape', [normed, g.node('Shape', [x])]);
  const gamma = g.param('weight', [channels, 1, 1], 0.1, 1);
  const beta = g.param('bias', [channels, 1, 1], 0.1);
  return g.node('Add', [g.node('Mul', [restored, gamma]), beta]);
}

/** `nn.LayerNorm(dim, eps)` over the last axis. */
export function layerNorm(g: OnnxGraph, x: string, dim: number, eps: number): string {
  return g.node('LayerNormalization', [x, g.param('weight', [dim], 0.1, 1), g.param('bias', [dim], 0.1)], { axis: -1, epsilon: { float: eps } });
}

export function silu(g: OnnxGraph, x: string): string {
  return g.node('Mul', [x, g.node('Sigmoid', [x])]);
}

/** Exact GELU: `0.5 x (1 + erf(x / sqrt 2))`. */
export function gelu(g: OnnxGraph, x: string): string {
  const erf = g.node('Erf', [g.node('Div', [x, g.floatConst([Math.SQRT2])])]);
  const onePlus = g.node('Add', [erf, g.floatConst([1])]);
  return g.node('Mul', [g.node('Mul', [x, onePlus]), g.floatConst([0.5])]);
}

/** CLIP ViT-L's `quick_gelu`: `x * sigmoid(1.702 x)`. */
export function quickGelu(g: OnnxGraph, x: string): string {
  return g.node('Mul', [x, g.node('Sigmoid', [g.node('Mul', [x, g.floatConst([1.702])])])]);
}

/**
 * Multi-head attention over `[B, N, dim]` queries and `[B, M, contextDim]` keys/values
 * (`context` = the queries for self-attention): q/k/v projections, softmax(q k^T / sqrt(d) + mask) v,
 * output projection. `mask` (additive, broadcast to `[B, heads, N, M]`) is used by CLIP's causal attention.
 */
export function attention(
  g: OnnxGraph,
  x: string,
  dim: number,
  heads: number,
  options: { context?: string; contextDim?: number; qkvBias: boolean; mask?: string; names?: [string, string, string, string] },
): string {
  const [qName, kName, vName, outName] = options.names ?? ['to_q', 'to_k', 'to_v', 'to_out.0'];
  const context = options.context ?? x;
  const contextDim = options.contextDim ?? dim;
  const headDim = dim / heads;
  const split = (t: string, perm: number[]) => g.node('Transpose', [g.node('Reshape', [t, g.const([0, 0, heads, headDim])])], { perm });
  const q = split(g.within(qName, () => linear(g, x, dim, dim, options.qkvBias)), [0, 2, 1, 3]);
  const k = split(g.within(kName, () => linear(g, context, contextDim, dim, options.qkvBias)), [0, 2, 3, 1]);
  const v = split(g.within(vName, () => linear(g, context, contextDim, dim, options.qkvBias)), [0, 2, 1, 3]);
  let scores = g.node('Mul', [g.node('MatMul', [q, k]), g.floatConst([1 / Math.sqrt(headDim)])]);
  if (options.mask) scores = g.node('Add', [scores, options.mask]);
  const probs = g.node('Softmax', [scores], { axis: -1 });
  const merged = g.node('Reshape', [g.node('Transpose', [g.node('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), g.const([0, 0, dim])]);
  return g.within(outName, () => linear(g, merged, dim, dim));
}

/** NCHW `[B, C, H, W]` to tokens `[B, H*W, C]`. */
export function toTokens(g: OnnxGraph, x: string): string {
  return g.node('Transpose', [g.node('Reshape', [x, g.const([0, 0, -1])])], { perm: [0, 2, 1] });
}

/** Tokens `[B, H*W, C]` back to the NCHW shape of `like`. */
export function fromTokens(g: OnnxGraph, tokens: string, like: string): string {
  return g.node('Reshape', [g.node('Transpose', [tokens], { perm: [0, 2, 1] }), g.node('Shape', [like])]);
}

/**
 * diffusers `ResnetBlock2D`: GroupNorm, SiLU, conv, (+ projected time embedding), GroupNorm, SiLU, conv,
 * plus a 1x1 shortcut conv when channels change.
 */
export function resnetBlock(
  g: OnnxGraph,
  x: string,
  inChannels: number,
  outChannels: number,
  options: { groups: number; eps: number; temb?: { value: string; channels: number } },
): string {
  let h = g.within('norm1', () => groupNorm(g, x, inChannels, options.groups, options.eps));
  h = g.within('conv1', () => conv2d(g, silu(g, h), inChannels, outChannels, 3));
  if (options.temb) {
    const { value, channels } = options.temb;
    const projected = g.within('time_emb_proj', () => linear(g, silu(g, value), channels, outChannels));
    h = g.node('Add', [h, g.node('Unsqueeze', [projected, g.const([2, 3])])]);
  }
  h = g.within('norm2', () => groupNorm(g, h, outChannels, options.groups, options.eps));
  h = g.within('conv2', () => conv2d(g, silu(g, h), outChannels, outChannels, 3));
  const shortcut = inChannels === outChannels ? x : g.within('conv_shortcut', () => conv2d(g, x, inChannels, outChannels, 1));
  return g.node('Add', [shortcut, h]);
}

/**
 * diffusers `get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)`:
 * `[cos(t f), sin(t f)]` with `f_i = exp(-ln(10000) i / (dim / 2))`, computed in float32 whatever the model's
 * dtype (`timesteps[:, None].float()`), as an fp16 export keeps it. `t` is `[N]`; returns `[N, dim]` float32.
 */
export function timestepEmbedding(g: OnnxGraph, t: string, dim: number): string {
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const args = g.node('Mul', [g.node('Unsqueeze', [g.node('Cast', [t], { to: 1 }), g.const([1])]), g.const(freqs, 'float32', [1, half])]);
  return g.node('Concat', [g.node('Cos', [args]), g.node('Sin', [args])], { axis: 1 });
}
