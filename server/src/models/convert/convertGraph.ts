/**
 * Rewrites one exported component (text encoder, UNet or VAE part) into a browser variant:
 *
 * 1. Precision. Every node computes in the component's float type, except the sinusoidal timestep
 *    embeddings (`Sin`/`Cos` and everything feeding them: diffusers computes them in float32 whatever the
 *    model dtype, and fp16 timesteps near 1000 are off by up to 0.5) and the ops named in `fp32Ops`
 *    (GroupNorm's InstanceNormalization in fp16 variants: its reductions run over whole feature maps). Graph
 *    inputs that only feed float32 nodes (`timestep`, `time_ids`) stay float32. `Cast` nodes between float
 *    types, `Constant` and `ConstantOfShape` values follow the node's type; a `Cast` is inserted wherever a
 *    value reaches a node of another type. Float constants outside the fp16 range are clamped to it (the
 *    CLIP causal mask's `finfo(float32).min` becomes -65504). Stale `value_info` is dropped.
 * 2. Weights. MatMul weights (2-D initializers) become `MatMulNBits` (4- or 8-bit, block size 32); Conv
 *    weights become int8 through `DequantizeLinear` (axis 0). Both run on onnxruntime-web's WebGPU EP (it has
 *    no QLinearConv, ConvInteger or MatMulInteger). Other float weights (embeddings, norms, biases) of at least
 *    1024 elements are stored in `weightStorage` and cast to the compute type on load (onnxruntime folds the
 *    Cast once, when the session is created).
 */
import { fromHalfBits, toHalfBits } from '../../../../src/core/tensor.ts';
import { BYTES_PER_ELEMENT, DT, num, type AttributeProto, type ModelMessage, type NodeProto, type ShardWriter, type SourceModel, type TensorProto } from './onnxFile.ts';
import { quantizeConvInt8, quantizeMatMulNBits } from './quantize.ts';

export type FloatType = 'float32' | 'float16';

/** How one component is converted. */
export interface ComponentPlan {
  /** Element type activations are computed in. */
  compute: FloatType;
  /** Storage of float weights of 1024 elements or more that are not quantized. */
  weightStorage: FloatType;
  /** MatMulNBits bits for MatMul weights; undefined keeps them float. */
  matmulBits?: 4 | 8;
  /** int8 Conv weights through DequantizeLinear. */
  convInt8: boolean;
  /** Op types computed in float32 even in an fp16 component. */
  fp32Ops: readonly string[];
}

/** What the conversion did, for reports. */
export interface ConversionStats {
  matmulsQuantized: number;
  convsQuantized: number;
  castsInserted: number;
  /** Graph float inputs kept in float32 (they only feed float32 nodes). */
  float32Inputs: string[];
}

export const MATMUL_BLOCK_SIZE = 32;
const FLOAT_CODES: Record<FloatType, number> = { float32: DT.float32, float16: DT.float16 };
const isFloatCode = (t: number | undefined) => t === DT.float32 || t === DT.float16 || t === DT.float64;
const FP16_MAX = 65504;

let halfTable: Float32Array | undefined;
/** float16 bits -> float32 value, by table (65,536 entries). */
function halfToFloat(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = fromHalfBits(h);
  }
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]!]!;
  return out;
}

/** Values of a float tensor's bytes as float32. */
export function floatValues(bytes: Uint8Array, dataType: number): Float32Array {
  // a view at an odd offset (protobuf raw_data inside the model bytes) is copied; Buffer#slice would not copy
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  if (dataType === DT.float32) return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
  if (dataType === DT.float16) return halfToFloat(new Uint16Array(aligned.buffer, aligned.byteOffset, aligned.length / 2));
  if (dataType === DT.float64) return Float32Array.from(new Float64Array(aligned.buffer, aligned.byteOffset, aligned.length / 8));
  throw new TypeError(`not a float tensor (data type ${dataType})`);
}

/** float32 values as bytes of `type`; float16 clamps to +-65504 (NaN stays NaN). */
export function encodeFloats(values: Float32Array, type: FloatType): Uint8Array {
  if (type === 'float32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = toHalfBits(v > FP16_MAX ? FP16_MAX : v < -FP16_MAX ? -FP16_MAX : v);
  }
  return new Uint8Array(out.buffer);
}

/** A tensor attribute (`Constant.value`, `ConstantOfShape.value`) converted to `type`. */
function convertTensorValue(t: TensorProto, type: FloatType): TensorProto {
  const raw = t.rawData?.length ? t.rawData : undefined;
  const dims = (t.dims ?? []).map(num);
  const count = dims.reduce((n, d) => n * d, 1);
  const values = raw ? floatValues(raw, t.dataType ?? 0) : Float32Array.from(t.dataType === DT.float16 ? Array.from(t.int32Data ?? [], fromHalfBits) : (t.floatData ?? []));
  if (values.length !== count) throw new RangeError(`${t.name}: constant has ${values.length} values for dims [${dims}]`);
  return { name: t.name, dims, dataType: FLOAT_CODES[type], rawData: encodeFloats(Float32Array.from(values), type) };
}

/** Ops whose float inputs need no cast: they accept any type, or their inputs are fixed float32 by the spec. */
const ANY_INPUT_TYPE = new Set(['Cast', 'Shape', 'Size', 'ArgMax', 'ArgMin', 'IsNaN', 'IsInf']);
const FIXED_INPUTS: Record<string, number[]> = { Resize: [1, 2], DequantizeLinear: [1], MatMulNBits: [1, 2, 3] };
/** Ops whose output is not float whatever their inputs (for the type pass over the source graph). */
const BOOL_OUTPUT = new Set(['Greater', 'Less', 'Equal', 'GreaterOrEqual', 'LessOrEqual', 'And', 'Or', 'Not', 'Xor', 'IsNaN', 'IsInf']);
const INT_OUTPUT = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

/** The output type an op fixes regardless of the plan: a Cast's `to`, float32 scalars and defaults. */
function fixedOutputType(node: NodeProto): number | undefined {
  if (node.opType === 'Cast') return num(attr(node, 'to')?.i);
  if (node.opType === 'Constant' && (attr(node, 'value_float') || attr(node, 'value_floats'))) return DT.float32;
  if (node.opType === 'ConstantOfShape' && !attr(node, 'value')) return DT.float32;
  return undefined;
}

/**
 * Element type of every value of the source graph: graph inputs and initializers as declared, node outputs
 * by the rules of the ops exporters emit (the type of the data input, or what the op fixes).
 */
function inferTypes(source: SourceModel): Map<string, number> {
  const graph = source.model.graph!;
  const types = new Map<string, number>();
  for (const input of graph.input ?? []) types.set(input.name!, input.type?.tensorType?.elemType ?? 0);
  for (const [name, t] of source.initializers) types.set(name, t.dataType);
  for (const node of graph.node ?? []) {
    const op = node.opType!;
    const first = types.get(node.input?.[0] ?? '') ?? 0;
    let out: number;
    if (op === 'Cast') out = num(attr(node, 'to')?.i);
    else if (op === 'Constant') out = attr(node, 'value')?.t?.dataType ?? (attr(node, 'value_float') ? DT.float32 : DT.int64);
    else if (op === 'ConstantOfShape') out = attr(node, 'value')?.t?.dataType ?? DT.float32;
    else if (BOOL_OUTPUT.has(op)) out = DT.bool;
    else if (INT_OUTPUT.has(op)) out = DT.int64;
    else if (op === 'Where') out = types.get(node.input?.[1] ?? '') ?? 0;
    else out = first;
    for (const o of node.output ?? []) if (o) types.set(o, out);
  }
  return types;
}

/** Nodes feeding `Sin`/`Cos`, and those themselves: the sinusoidal embeddings, kept in float32. */
function sinusoidIsland(nodes: readonly NodeProto[], types: Map<string, number>): Set<NodeProto> {
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const island = new Set<NodeProto>();
  const stack = nodes.filter((n) => n.opType === 'Sin' || n.opType === 'Cos');
  while (stack.length) {
    const n = stack.pop()!;
    if (island.has(n)) continue;
    island.add(n);
    for (const input of n.input ?? []) {
      const p = producer.get(input);
      if (p && isFloatCode(types.get(input)) && !island.has(p)) stack.push(p);
    }
  }
  return island;
}

/**
 * Converts `source` per `plan`, writing initializers through `writer`.
 * @param floatIo element type of the component's float inputs and outputs (other than those kept float32).
 * @returns the new model (for `writer.finish`) and what was done.
 */
export function convertGraph(source: SourceModel, plan: ComponentPlan, floatIo: FloatType, writer: ShardWriter): { model: ModelMessage; stats: ConversionStats } {
  const graph = source.model.graph!;
  const sourceNodes = graph.node ?? [];
  const types = inferTypes(source);
  const island = sinusoidIsland(sourceNodes, types);
  const fp32Ops = new Set(plan.fp32Ops);
  const computeOf = (n: NodeProto): FloatType => (island.has(n) || fp32Ops.has(n.opType!) ? 'float32' : plan.compute);
  const stats: ConversionStats = { matmulsQuantized: 0, convsQuantized: 0, castsInserted: 0, float32Inputs: [] };

  const consumers = new Map<string, NodeProto[]>();
  for (const n of sourceNodes) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);

  // New element type of every float value; initializers are decided below.
  const newType = new Map<string, number>();
  const graphInputs = (graph.input ?? []).filter((i) => !source.initializers.has(i.name!));
  const inputs = graphInputs.map((input) => {
    const elem = input.type?.tensorType?.elemType ?? 0;
    if (!isFloatCode(elem)) {
      newType.set(input.name!, elem);
      return input;
    }
    const onlyFp32 = (consumers.get(input.name!) ?? []).every((c) => computeOf(c) === 'float32');
    const type: FloatType = onlyFp32 ? 'float32' : floatIo;
    if (onlyFp32 && floatIo !== 'float32') stats.float32Inputs.push(input.name!);
    newType.set(input.name!, FLOAT_CODES[type]);
    return { ...input, type: { tensorType: { ...input.type!.tensorType, elemType: FLOAT_CODES[type] } } };
  });

  // Quantized weights replace their MatMul / Conv; other initializers are converted when first used.
  const outInits: TensorProto[] = [];
  const written = new Set<string>();
  const emit = (name: string, dims: readonly number[], dataType: number, bytes: Uint8Array) => {
    if (written.has(name)) return;
    written.add(name);
    outInits.push(writer.add({ name, dims, dataType, bytes }));
  };
  const sourceFloat = (name: string) => {
    const t = source.initializers.get(name)!;
    return floatValues(t.bytes(), t.dataType);
  };

  const nodes: NodeProto[] = [];
  const castCache = new Map<string, string>();
  /** `value` as `type`, through a Cast node (one per value and type). */
  const castTo = (value: string, type: FloatType): string => {
    const key = `${value}|${type}`;
    let cast = castCache.get(key);
    if (!cast) {
      cast = `${value}/cast_${type}`;
      castCache.set(key, cast);
      nodes.push({ opType: 'Cast', name: `${cast}/Cast`, input: [value], output: [cast], attribute: [{ name: 'to', type: 2, i: FLOAT_CODES[type] }] });
      newType.set(cast, FLOAT_CODES[type]);
      stats.castsInserted++;
    }
    return cast;
  };
  /**
   * Writes an initializer in the storage its consumers need (unchanged when `keep`: an input whose type the
   * op fixes); returns its element type.
   */
  const useInitializer = (name: string, consumer: NodeProto, keep: boolean): number => {
    const known = newType.get(name);
    if (known !== undefined) return known;
    const t = source.initializers.get(name)!;
    if (keep || !isFloatCode(t.dataType)) {
      emit(name, t.dims, t.dataType, t.bytes());
      newType.set(name, t.dataType);
      return t.dataType;
    }
    const count = t.dims.reduce((n, d) => n * d, 1);
    const users = consumers.get(name) ?? [consumer];
    const storage: FloatType = users.some((u) => island.has(u)) ? 'float32' : count >= 1024 ? plan.weightStorage : computeOf(consumer);
    const bytes = t.dataType === FLOAT_CODES[storage] ? t.bytes() : encodeFloats(floatValues(t.bytes(), t.dataType), storage);
    emit(name, t.dims, FLOAT_CODES[storage], bytes);
    newType.set(name, FLOAT_CODES[storage]);
    return FLOAT_CODES[storage];
  };

  for (const source2 of sourceNodes) {
    let node: NodeProto = { ...source2, input: [...(source2.input ?? [])], output: [...(source2.output ?? [])], attribute: [...(source2.attribute ?? [])] };
    const compute = computeOf(source2);
    const weight = node.input![1] ?? '';
    const weightInit = source.initializers.get(weight);
    const isFloatWeight = weightInit && isFloatCode(weightInit.dataType) && (consumers.get(weight) ?? []).length === 1;

    if (node.opType === 'MatMul' && plan.matmulBits && isFloatWeight && weightInit.dims.length === 2) {
      const [K, N] = weightInit.dims as [number, number];
      // scales are stored like other weights (fp16 in every quantized variant) and cast to the compute type on load
      const scaleCount = N * Math.ceil(K / MATMUL_BLOCK_SIZE);
      const scaleStorage: FloatType = scaleCount >= 1024 ? plan.weightStorage : compute;
      const q = quantizeMatMulNBits(sourceFloat(weight), K, N, plan.matmulBits, MATMUL_BLOCK_SIZE, scaleStorage === 'float16');
      emit(`${weight}_Q${plan.matmulBits}`, [N, q.nBlocks, (MATMUL_BLOCK_SIZE * plan.matmulBits) / 8], DT.uint8, q.packed);
      emit(`${weight}_scales`, [scaleCount], FLOAT_CODES[scaleStorage], encodeFloats(q.scales, scaleStorage));
      emit(`${weight}_zero_points`, [q.zeroPoints.length], DT.uint8, q.zeroPoints);
      newType.set(`${weight}_scales`, FLOAT_CODES[scaleStorage]);
      const scales = scaleStorage === compute ? `${weight}_scales` : castTo(`${weight}_scales`, compute);
      node = {
        opType: 'MatMulNBits',
        domain: 'com.microsoft',
        name: `${node.name}_Q${plan.matmulBits}`,
        input: [node.input![0]!, `${weight}_Q${plan.matmulBits}`, scales, `${weight}_zero_points`],
        output: node.output,
        attribute: [
          { name: 'K', type: 2, i: K },
          { name: 'N', type: 2, i: N },
          { name: 'bits', type: 2, i: plan.matmulBits },
          { name: 'block_size', type: 2, i: MATMUL_BLOCK_SIZE },
        ],
      };
      newType.set(`${weight}_Q${plan.matmulBits}`, DT.uint8);
      newType.set(`${weight}_zero_points`, DT.uint8);
      stats.matmulsQuantized++;
    } else if (node.opType === 'Conv' && plan.convInt8 && isFloatWeight && weightInit.dims.length === 4) {
      const { codes, scales } = quantizeConvInt8(sourceFloat(weight), weightInit.dims[0]!);
      emit(`${weight}_int8`, weightInit.dims, DT.int8, new Uint8Array(codes.buffer));
      emit(`${weight}_scale`, [scales.length], DT.float32, new Uint8Array(scales.buffer));
      const dequantized = `${weight}_dequantized`;
      nodes.push({
        opType: 'DequantizeLinear',
        name: `${node.name}/DequantizeLinear`,
        input: [`${weight}_int8`, `${weight}_scale`],
        output: [dequantized],
        attribute: [{ name: 'axis', type: 2, i: 0 }],
      });
      newType.set(`${weight}_int8`, DT.int8);
      newType.set(`${weight}_scale`, DT.float32);
      newType.set(dequantized, DT.float32);
      node.input![1] = dequantized;
      stats.convsQuantized++;
    }

    // float attributes and Casts follow the node's type
    if (node.opType === 'Cast' && isFloatCode(num(attr(node, 'to')?.i))) {
      node.attribute = node.attribute!.map((a) => (a.name === 'to' ? { ...a, i: FLOAT_CODES[compute] } : a));
    }
    if ((node.opType === 'Constant' || node.opType === 'ConstantOfShape') && isFloatCode(attr(node, 'value')?.t?.dataType ?? undefined)) {
      node.attribute = node.attribute!.map((a) => (a.name === 'value' ? { ...a, t: convertTensorValue(a.t!, compute) } : a));
    }

    // inputs: initializers written on first use, casts where a float value's type differs from the node's
    const fixed = FIXED_INPUTS[node.opType!] ?? [];
    node.input = node.input!.map((value, position) => {
      if (!value) return value;
      const keep = ANY_INPUT_TYPE.has(node.opType!) || fixed.includes(position);
      let type = newType.get(value);
      if (type === undefined && source.initializers.has(value)) type = useInitializer(value, source2, keep);
      if (!isFloatCode(type) || keep) return value;
      return type === FLOAT_CODES[compute] ? value : castTo(value, compute);
    });

    // outputs: float ones in the node's type, unless the op fixes it
    const fixedOut = fixedOutputType(node);
    for (const o of node.output ?? []) {
      if (!o) continue;
      const was = types.get(o) ?? 0;
      newType.set(o, fixedOut ?? (isFloatCode(was) ? FLOAT_CODES[compute] : was));
    }
    nodes.push(node);
  }

  // graph outputs in the I/O type (a Cast renames the producer's value when its type differs)
  const outputs = (graph.output ?? []).map((output) => {
    const elem = output.type?.tensorType?.elemType ?? 0;
    if (!isFloatCode(elem)) return output;
    const have = newType.get(output.name!);
    if (have !== FLOAT_CODES[floatIo]) {
      const renamed = `${output.name}/before_cast`;
      for (const n of nodes) n.output = n.output!.map((o) => (o === output.name ? renamed : o));
      for (const n of nodes) n.input = n.input!.map((i) => (i === output.name ? renamed : i));
      nodes.push({ opType: 'Cast', name: `${output.name}/Cast`, input: [renamed], output: [output.name!], attribute: [{ name: 'to', type: 2, i: FLOAT_CODES[floatIo] }] });
      stats.castsInserted++;
    }
    return { ...output, type: { tensorType: { ...output.type!.tensorType, elemType: FLOAT_CODES[floatIo] } } };
  });

  const opsetImport = [...(source.model.opsetImport ?? [])];
  if (stats.matmulsQuantized && !opsetImport.some((o) => o.domain === 'com.microsoft')) opsetImport.push({ domain: 'com.microsoft', version: 1 });
  const model: ModelMessage = {
    ...source.model,
    producerName: 'ad-studio convert',
    opsetImport,
    graph: { ...graph, node: nodes, initializer: outInits, input: inputs, output: outputs, valueInfo: [] },
  };
  return { model, stats };
}

/** Bytes of an initializer element type (for size reports). */
export const elementBytes = (dataType: number) => BYTES_PER_ELEMENT[dataType] ?? 4;
