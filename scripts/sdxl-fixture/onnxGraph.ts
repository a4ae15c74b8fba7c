/**
 * A small ONNX graph builder for the SDXL fixtures: nodes and initializers named like a PyTorch export
 * (`/down_blocks.0/resnets.0/conv1/Conv`, `down_blocks.0.resnets.0.conv1.weight`), serialised with
 * onnx-proto. Learned weights are drawn only when the model is written, one tensor at a time, so a
 * full-size SDXL UNet (2.6 billion parameters) streams to `model.onnx_data` without being held in memory,
 * and `parameterCount()` costs nothing.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';
import { toHalfBits } from '../../src/core/tensor.ts';

const { onnx } = onnxProto;

/** ONNX `TensorProto.DataType` codes. */
export const DataType = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
export type ElemType = keyof typeof DataType;
/** Element types a float weight or activation of a fixture graph can have. */
export type FloatType = 'float32' | 'float16';

type AttrValue = number | number[] | string | { floats: number[] } | { float: number };

export interface ModelFiles {
  /** `model.onnx` bytes. */
  model: Uint8Array;
  /** `model.onnx_data` bytes, when initializers were written externally. */
  externalData?: Uint8Array;
}

/**
 * How learned weights are drawn:
 * - `torch`: `torch.randn` of the graph's seed, tensor by tensor (the tiny fixture; reproducible in PyTorch);
 * - `uniform`: a fast counter-based generator (SplitMix32) giving uniform values with the requested mean and
 *   standard deviation, as PyTorch's own `kaiming_uniform_` Linear and Conv initialisation; used for the
 *   full-size fixture, where `torch.randn` in JavaScript would take minutes.
 */
export type WeightInit = 'torch' | 'uniform';

export interface GraphOptions {
  /** Seeds the weight generator, so a graph's weights are reproducible. */
  seed: number;
  /** Element type of learned weights and of float constants (an fp16 export has fp16 everywhere). */
  float?: FloatType;
  init?: WeightInit;
}

/** One initializer: raw values, or a learned parameter drawn when written. */
interface Initializer {
  name: string;
  dims: number[];
  type: ElemType;
  values?: ArrayLike<number>;
  random?: { std: number; mean: number; index: number };
}

export const EXTERNAL_DATA_FILE = 'model.onnx_data';
const EXTERNAL_ALIGN = 64;

const elementCount = (dims: readonly number[]) => dims.reduce((n, d) => n * d, 1);

/**
 * SplitMix32 (Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators", 32-bit variant of
 * Vigna's splitmix64 finaliser) keyed by tensor: values in [mean - sqrt(3) std, mean + sqrt(3) std).
 */
function uniformValues(count: number, std: number, mean: number, key: number): Float32Array {
  const out = new Float32Array(count);
  const half = std * Math.sqrt(3);
  let state = Math.imul(key ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z = (z ^ (z >>> 16)) >>> 0;
    out[i] = mean + half * (z / 2147483648 - 1);
  }
  return out;
}

function encodeValues(type: ElemType, values: ArrayLike<number>): Uint8Array {
  switch (type) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values).buffer);
    case 'float16': {
      const half = new Uint16Array(values.length);
      for (let i = 0; i < half.length; i++) half[i] = toHalfBits(values[i]!);
      return new Uint8Array(half.buffer);
    }
    case 'int64':
      return new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
    case 'int32':
      return new Uint8Array(Int32Array.from(values).buffer);
    default:
      throw new TypeError(`initializers of type ${type} are not needed by the fixture`);
  }
}

export class OnnxGraph {
  private readonly nodes: object[] = [];
  private readonly initializers: Initializer[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private readonly scope: string[] = [];
  private readonly names = new Map<string, number>();
  private readonly seed: number;
  private readonly init: WeightInit;
  private learned = 0;
  /** Element type of learned weights and float constants. */
  readonly float: FloatType;

  constructor(readonly name: string, options: GraphOptions) {
    this.seed = options.seed;
    this.float = options.float ?? 'float32';
    this.init = options.init ?? 'torch';
  }

  /** Runs `body` with `part` appended to the node/weight name scope (a PyTorch module path). */
  within<T>(part: string, body: () => T): T {
    this.scope.push(part);
    try {
      return body();
    } finally {
      this.scope.pop();
    }
  }

  private unique(base: string): string {
    const n = this.names.get(base) ?? 0;
    this.names.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  private valueInfo(name: string, type: ElemType, shape: readonly (number | string)[]) {
    const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
    return { name, type: { tensorType: { elemType: DataType[type], shape: { dim } } } };
  }

  input(name: string, type: ElemType, shape: readonly (number | string)[]): string {
    this.inputs.push(this.valueInfo(name, type, shape));
    return name;
  }

  /** Marks `value` as the graph output `name` (an Identity node renames it when needed). */
  output(value: string, name: string, type: ElemType, shape: readonly (number | string)[]): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', name: this.unique(`/${name}/Identity`), input: [value], output: [name] });
    this.outputs.push(this.valueInfo(name, type, shape));
  }

  /** Adds an initializer from raw values; `name` is used as given (a parameter path) or made unique. */
  tensor(name: string, dims: readonly number[], type: ElemType, values: ArrayLike<number>): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, dims: [...dims], type, values });
    return unique;
  }

  /** A learned parameter `<scope>.<name>` of the graph's float type, drawn from N(mean, std^2) when written. */
  param(name: string, dims: readonly number[], std: number, mean = 0): string {
    const unique = this.unique([...this.scope, name].join('.'));
    this.initializers.push({ name: unique, dims: [...dims], type: this.float, random: { std, mean, index: this.learned++ } });
    return unique;
  }

  /** A constant (shape vectors, axes, scalars), named like the exporter's `onnx::` constants. */
  const(values: readonly number[], type: ElemType = 'int64', dims: readonly number[] = [values.length]): string {
    return this.tensor(`onnx::${this.scope.at(-1) ?? 'graph'}_const`, dims, type, values);
  }

  /** A float scalar or vector constant of the graph's float type. */
  floatConst(values: readonly number[], dims: readonly number[] = []): string {
    return this.const(values, this.float, dims);
  }

  /** Adds a node; returns its output names (`count` of them). */
  nodeN(opType: string, inputs: readonly string[], count: number, attrs: Record<string, AttrValue> = {}): string[] {
    const path = `/${this.scope.join('/')}`;
    const name = this.unique(`${path === '/' ? '' : path}/${opType}`);
    const output = Array.from({ length: count }, (_, i) => `${name}_output_${i}`);
    const attribute = Object.entries(attrs).map(([key, value]) => {
      if (typeof value === 'string') return { name: key, type: 3, s: new TextEncoder().encode(value) };
      if (Array.isArray(value)) return { name: key, type: 7, ints: value };
      if (typeof value === 'object' && 'floats' in value) return { name: key, type: 6, floats: value.floats };
      if (typeof value === 'object') return { name: key, type: 1, f: value.float };
      return { name: key, type: 2, i: value };
    });
    this.nodes.push({ opType, name, input: [...inputs], output, attribute });
    return output;
  }

  /** Adds a single-output node; returns its output name. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.nodeN(opType, inputs, 1, attrs)[0]!;
  }

  /** Casts `value` to the graph's float type (no node when it already is, as the exporter does). */
  toFloat(value: string, from: FloatType): string {
    return from === this.float ? value : this.node('Cast', [value], { to: DataType[this.float] });
  }

  /** Learned parameters (not exporter constants), as `sum(p.numel() for p in model.parameters())`. */
  parameterCount(): number {
    return this.initializers.reduce((n, i) => n + (i.random ? elementCount(i.dims) : 0), 0);
  }

  /**
   * Bytes of an initializer's data. `torch` is the graph's `torch.randn` stream, consumed in parameter order,
   * so each tensor gets the same values whatever is written around it.
   */
  private bytesOf(init: Initializer, torch: TorchGenerator): Uint8Array {
    if (init.values) return encodeValues(init.type, init.values);
    const { std, mean, index } = init.random!;
    const dims = init.dims.length ? init.dims : [1];
    const values =
      this.init === 'uniform'
        ? uniformValues(elementCount(dims), std, mean, (Math.imul(this.seed, 0x01000193) ^ index) >>> 0)
        : torch.randn(dims).map((v) => v * std + mean);
    return encodeValues(init.type, values);
  }

  /**
   * Serialises the model (opset 17, IR 8), handing external weight bytes to `sink` in file order.
   * @param externalThreshold initializers of at least this many bytes go to `model.onnx_data`; omit to keep
   *   every weight inside `model.onnx`.
   */
  private serialise(externalThreshold: number | undefined, sink: (bytes: Uint8Array) => void): { model: Uint8Array; externalBytes: number } {
    let offset = 0;
    const torch = new TorchGenerator(this.seed);
    const initializer = this.initializers.map((init) => {
      const bytes = this.bytesOf(init, torch);
      const base = { name: init.name, dims: init.dims, dataType: DataType[init.type] };
      if (externalThreshold === undefined || bytes.length < externalThreshold) return { ...base, rawData: bytes };
      const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (pad) sink(new Uint8Array(pad));
      offset += pad;
      const entry = {
        ...base,
        dataLocation: 1,
        externalData: [
          { key: 'location', value: EXTERNAL_DATA_FILE },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      };
      sink(bytes);
      offset += bytes.length;
      return entry;
    });
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'ad-studio sdxl fixture',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    }).finish();
    return { model, externalBytes: offset };
  }

  /** The model in memory (small graphs). See `write` for the streaming form. */
  build(externalThreshold?: number): ModelFiles {
    const chunks: Uint8Array[] = [];
    const { model, externalBytes } = this.serialise(externalThreshold, (bytes) => chunks.push(bytes));
    if (!externalBytes) return { model };
    const externalData = new Uint8Array(externalBytes);
    let at = 0;
    for (const c of chunks) {
      externalData.set(c, at);
      at += c.length;
    }
    return { model, externalData };
  }

  /**
   * Writes `model.onnx` (and `model.onnx_data` when some initializer reaches `externalThreshold` bytes) into
   * `dir`, streaming external weights tensor by tensor.
   * @returns bytes written.
   */
  write(dir: string, externalThreshold?: number): number {
    mkdirSync(dir, { recursive: true });
    let fd: number | undefined;
    try {
      const { model, externalBytes } = this.serialise(externalThreshold, (bytes) => {
        fd ??= openSync(join(dir, EXTERNAL_DATA_FILE), 'w');
        writeSync(fd, bytes);
      });
      const modelFd = openSync(join(dir, 'model.onnx'), 'w');
      try {
        writeSync(modelFd, model);
      } finally {
        closeSync(modelFd);
      }
      return model.length + externalBytes;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
}
