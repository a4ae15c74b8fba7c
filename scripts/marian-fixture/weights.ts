/**
 * The weights of a random MarianMTModel (transformers `modeling_marian.py`), drawn once per seed so that the
 * encoder, decoder and decoder-with-past graphs built from them hold identical tensors.
 */
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';
import type { MarianConfig } from './graphs.ts';

/** One float32 tensor of the state dict. Linear weights are `[in, out]` (`nn.Linear.weight` transposed, as the
 *  exporter folds it into MatMul; layers.ts `linear` stores them the same way), so `y = x @ W + b`. */
export interface MarianTensor {
  dims: number[];
  values: Float32Array;
}

/**
 * `MarianSinusoidalPositionalEmbedding._init_weight`: `position_enc[pos, j] = pos / 10000 ** (2 * (j // 2) / dim)`,
 * columns `[0, ceil(dim/2))` = sin of the even columns, the rest = cos of the odd columns; computed in float64 and
 * rounded to float32 as `torch.FloatTensor(np.sin(...))` does.
 * @returns `[numPositions, dim]` float32, row-major.
 */
export function sinusoidalPositions(numPositions: number, dim: number): Float32Array {
  const out = new Float32Array(numPositions * dim);
  const sentinel = Math.ceil(dim / 2);
  for (let pos = 0; pos < numPositions; pos++) {
    for (let j = 0; j < dim; j++) {
      const angle = pos / Math.pow(10000, (2 * Math.floor(j / 2)) / dim);
      if (j % 2 === 0) out[pos * dim + j / 2] = Math.sin(angle);
      else out[pos * dim + sentinel + (j - 1) / 2] = Math.cos(angle);
    }
  }
  return out;
}

/**
 * All tensors of `MarianMTModel`, keyed by PyTorch state-dict name (`model.shared.weight`,
 * `model.encoder.layers.0.self_attn.k_proj.weight`, ..., `final_logits_bias`), drawn with `torch.randn` of `seed`
 * (src/core/random/torchGenerator.ts) tensor by tensor in state-dict order (attention: k, v, q, out as
 * `MarianAttention.__init__` registers them). Scales: `model.shared.weight` std `d_model^-0.5` (so the tied
 * `lm_head` gives logits of std about 1 over the final layer norm's unit-variance output), Linear weights
 * std `in^-0.5` and biases std 0.02, LayerNorm weight N(1, 0.1^2) and bias N(0, 0.1^2), `final_logits_bias`
 * `[1, vocab]` std 0.01. The two `embed_positions.weight` tables are the fixed sinusoids.
 */
export function marianWeights(config: MarianConfig, seed: number): Map<string, MarianTensor> {
  const torch = new TorchGenerator(seed);
  const table = new Map<string, MarianTensor>();
  const draw = (name: string, dims: number[], std: number, mean = 0) => {
    const values = torch.randn(dims).map((v) => v * std + mean);
    table.set(name, { dims, values });
  };
  const D = config.d_model;
  const linear = (path: string, inF: number, outF: number) => {
    draw(`${path}.weight`, [inF, outF], 1 / Math.sqrt(inF));
    draw(`${path}.bias`, [outF], 0.02);
  };
  const layerNorm = (path: string) => {
    draw(`${path}.weight`, [D], 0.1, 1);
    draw(`${path}.bias`, [D], 0.1);
  };
  const attention = (path: string) => ['k_proj', 'v_proj', 'q_proj', 'out_proj'].forEach((p) => linear(`${path}.${p}`, D, D));
  const positions = { dims: [config.max_position_embeddings, D], values: sinusoidalPositions(config.max_position_embeddings, D) };

  draw('model.shared.weight', [config.vocab_size, D], 1 / Math.sqrt(D));
  table.set('model.encoder.embed_positions.weight', positions);
  for (let i = 0; i < config.encoder_layers; i++) {
    const p = `model.encoder.layers.${i}`;
    attention(`${p}.self_attn`);
    layerNorm(`${p}.self_attn_layer_norm`);
    linear(`${p}.fc1`, D, config.encoder_ffn_dim);
    linear(`${p}.fc2`, config.encoder_ffn_dim, D);
    layerNorm(`${p}.final_layer_norm`);
  }
  table.set('model.decoder.embed_positions.weight', positions);
  for (let i = 0; i < config.decoder_layers; i++) {
    const p = `model.decoder.layers.${i}`;
    attention(`${p}.self_attn`);
    layerNorm(`${p}.self_attn_layer_norm`);
    attention(`${p}.encoder_attn`);
    layerNorm(`${p}.encoder_attn_layer_norm`);
    linear(`${p}.fc1`, D, config.decoder_ffn_dim);
    linear(`${p}.fc2`, config.decoder_ffn_dim, D);
    layerNorm(`${p}.final_layer_norm`);
  }
  draw('final_logits_bias', [1, config.vocab_size], 0.01);
  return table;
}
