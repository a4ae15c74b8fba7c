/**
 * The random Marian graphs (scripts/marian-fixture/graphs.ts) in onnxruntime-node: logits against the numpy
 * transcription of transformers' MarianMTModel (scripts/reference/marian_forward.py), the with-past decoder against
 * the full decoder, and the weights the three graphs share.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMarianDecoder, buildMarianEncoder, tinyMarianConfig } from '../../scripts/marian-fixture/graphs.ts';

const { onnx } = onnxProto;
const config = tinyMarianConfig(64);
const SEED = 11;
const PAD = config.pad_token_id;
const graphs = {
  encoder: buildMarianEncoder(config, SEED).build().model,
  decoder: buildMarianDecoder(config, SEED, false).build().model,
  withPast: buildMarianDecoder(config, SEED, true).build().model,
};
// row 1 is padded: its last two encoder positions are masked out
const encoderIds = [
  [5, 17, 42, 9, 33, 0],
  [12, 7, 61, 0, PAD, PAD],
];
const encoderMask = [
  [1, 1, 1, 1, 1, 1],
  [1, 1, 1, 1, 0, 0],
];
const decoderIds = [
  [PAD, 4, 19, 30, 8],
  [PAD, 8, 2, 55, 21],
];

// the first Python that has numpy (.ci/run installs Debian's python3-numpy for /usr/bin/python3)
const python = ['python3', '/usr/bin/python3'].find((exe) => spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
const numpyMissing = python === undefined;

const ids = (rows: number[][]) => new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);
const cols = (rows: number[][], from: number, to: number) => rows.map((r) => r.slice(from, to));
type Outputs = ort.InferenceSession.OnnxValueMapType;

/** Float32 `[B, N, V]` rows `from .. to - 1` of axis 1, flattened. */
function positionsOf(t: ort.Tensor, from: number, to: number): number[] {
  const [b, n, v] = t.dims as [number, number, number];
  const data = t.data as Float32Array;
  const out: number[] = [];
  for (let i = 0; i < b; i++) out.push(...data.subarray((i * n + from) * v, (i * n + to) * v));
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

/** Initializers by name (exporter constants `onnx::...` left out), with their raw bytes. */
function initializers(model: Uint8Array): Map<string, { dims: number[]; bytes: Uint8Array }> {
  const graph = onnx.ModelProto.decode(model).graph!;
  return new Map(
    graph.initializer!.filter((i) => !i.name!.startsWith('onnx::')).map((i) => [i.name!, { dims: i.dims!.map(Number), bytes: i.rawData! }]),
  );
}

describe('random MarianMTModel graphs', () => {
  let sessions: Record<keyof typeof graphs, ort.InferenceSession>;
  let encoderOut: ort.Tensor;
  beforeAll(async () => {
    const entries = await Promise.all(Object.entries(graphs).map(async ([k, bytes]) => [k, await ort.InferenceSession.create(bytes)] as const));
    sessions = Object.fromEntries(entries) as typeof sessions;
    encoderOut = (await sessions.encoder.run({ input_ids: ids(encoderIds), attention_mask: ids(encoderMask) })).last_hidden_state!;
  });
  afterAll(async () => {
    await Promise.all(Object.values(sessions ?? {}).map((s) => s.release()));
  });

  const decode = (rows: number[][]) =>
    sessions.decoder.run({ encoder_attention_mask: ids(encoderMask), input_ids: ids(rows), encoder_hidden_states: encoderOut });
  const pastOf = (out: Outputs) =>
    Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith('present.')).map(([k, v]) => [k.replace('present.', 'past_key_values.'), v]));

  it('declares the optimum export layout', () => {
    const names = (model: Uint8Array, side: 'input' | 'output') => onnx.ModelProto.decode(model).graph![side]!.map((v) => v.name);
    const cache = (prefix: string, sides: string[]) => [0, 1].flatMap((i) => sides.flatMap((s) => [`${prefix}.${i}.${s}.key`, `${prefix}.${i}.${s}.value`]));
    expect(names(graphs.encoder, 'input')).toEqual(['input_ids', 'attention_mask']);
    expect(names(graphs.encoder, 'output')).toEqual(['last_hidden_state']);
    expect(names(graphs.decoder, 'input')).toEqual(['encoder_attention_mask', 'input_ids', 'encoder_hidden_states']);
    expect(names(graphs.decoder, 'output')).toEqual(['logits', ...cache('present', ['decoder', 'encoder'])]);
    expect(names(graphs.withPast, 'input')).toEqual(['encoder_attention_mask', 'input_ids', ...cache('past_key_values', ['decoder', 'encoder'])]);
    expect(names(graphs.withPast, 'output')).toEqual(['logits', ...cache('present', ['decoder'])]);
  });

  it.skipIf(numpyMissing)(`matches the numpy MarianMTModel transcription within 1e-4${numpyMissing ? ' (skipped: python3 cannot import numpy)' : ''}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'marian-ref-'));
    try {
      const tensors: { name: string; shape: number[]; offset: number }[] = [];
      const chunks: Uint8Array[] = [];
      let offset = 0;
      const all = new Map([...initializers(graphs.encoder), ...initializers(graphs.decoder)]);
      for (const [name, { dims, bytes }] of all) {
        tensors.push({ name, shape: dims, offset });
        chunks.push(bytes);
        offset += bytes.length;
      }
      writeFileSync(join(dir, 'weights.bin'), Buffer.concat(chunks));
      writeFileSync(join(dir, 'weights.json'), JSON.stringify({ config, data: 'weights.bin', tensors }));
      const request = JSON.stringify({ input_ids: encoderIds, attention_mask: encoderMask, decoder_input_ids: decoderIds });
      const ran = spawnSync(python!, ['scripts/reference/marian_forward.py', join(dir, 'weights.json')], { input: request, encoding: 'utf8', maxBuffer: 1 << 26 });
      expect(ran.stderr).toBe('');
      const reference = JSON.parse(ran.stdout) as { encoder_last_hidden_state: number[][][]; logits: number[][][] };

      const logits = (await decode(decoderIds)).logits!;
      expect(logits.dims).toEqual([2, decoderIds[0]!.length, config.vocab_size]);
      expectClose(encoderOut.data as Float32Array, reference.encoder_last_hidden_state.flat(2), 1e-4);
      expectClose(logits.data as Float32Array, reference.logits.flat(2), 1e-4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([1, 2])('decoder_with_past on %i new token(s) equals decoder_model on the whole sequence', async (fresh) => {
    const whole = await decode(decoderIds);
    const split = decoderIds[0]!.length - fresh;
    const prefix = await decode(cols(decoderIds, 0, split));
    const next = await sessions.withPast.run({ encoder_attention_mask: ids(encoderMask), input_ids: ids(cols(decoderIds, split, split + fresh)), ...pastOf(prefix) });
    expect(next.logits!.dims).toEqual([2, fresh, config.vocab_size]);
    expectClose(next.logits!.data as Float32Array, positionsOf(whole.logits!, split, split + fresh), 1e-5);
    for (const name of ['present.0.decoder.key', 'present.1.decoder.value']) expectClose(next[name]!.data as Float32Array, whole[name]!.data as Float32Array, 1e-5);
  });

  it('holds byte-identical weights in all three graphs for one seed', () => {
    const [enc, dec, past] = [initializers(graphs.encoder), initializers(graphs.decoder), initializers(graphs.withPast)];
    const same = (a: typeof enc, b: typeof enc, name: string) => expect(Buffer.compare(a.get(name)!.bytes, b.get(name)!.bytes), name).toBe(0);
    for (const m of [dec, past]) same(enc, m, 'model.shared.weight');
    // decoder_with_past lacks only the cross-attention k/v projections (its cross keys/values come from the past)
    const crossProjections = [0, 1].flatMap((i) => ['k', 'v'].flatMap((p) => ['weight', 'bias'].map((t) => `model.decoder.layers.${i}.encoder_attn.${p}_proj.${t}`)));
    expect([...dec.keys()].filter((k) => !past.has(k)).sort()).toEqual(crossProjections.sort());
    for (const name of past.keys()) same(dec, past, name);
    // another seed gives other weights
    const other = initializers(buildMarianDecoder(config, SEED + 1, true).build().model);
    expect(Buffer.compare(other.get('model.shared.weight')!.bytes, past.get('model.shared.weight')!.bytes)).not.toBe(0);
  });

  it('gives non-degenerate first-step logits (greedy does not start with EOS)', async () => {
    const logits = (await decode([[PAD], [PAD]])).logits!;
    const data = logits.data as Float32Array;
    const argmax = [0, 1].map((b) => {
      const row = data.subarray(b * config.vocab_size, (b + 1) * config.vocab_size);
      return row.indexOf(Math.max(...row));
    });
    expect(argmax).not.toContain(config.eos_token_id);
    expect(argmax).not.toContain(PAD);
    const mean = data.reduce((s, v) => s + v, 0) / data.length;
    expect(Math.sqrt(data.reduce((s, v) => s + (v - mean) ** 2, 0) / data.length)).toBeGreaterThan(0.3);
  });
});
