/**
 * A small ONNX graph builder for the tiny SDXL fixture: nodes and initializers named like a PyTorch
 * export (`/down_blocks.0/resnets.0/conv1/Conv`, `down_blocks.0.resnets.0.conv1.weight`), serialised with
 * onnx-proto, large initializers optionally written to `model.onnx_data` as ONNX external data.
 */
import onnxProto from 'onnx-proto';
import { TorchGenerator } from '../../src/core/random/torchGenerator.ts';

const { onnx } = onnxProto;

/** ONNX `TensorProto.DataType` codes. */
export const DataType = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
export type ElemType = keyof typeof DataType;

type AttrValue = number | number[] | string | { floats: number[] } | { float: number };

export interface ModelFiles {
  /** `model.onnx` bytes. */
  model: Uint8Array;
  /** `model.onnx_data` bytes, when initializers were written externally. */
  externalData?: Uint8Array;
}

const EXTERNAL_DATA_FILE = 'model.onnx_data';
const EXTERNAL_ALIGN = 64;

export class OnnxGraph {
  private readonly nodes: object[] = [];
  private readonly initializers: { name: string; dims: number[]; type: ElemType; bytes: Uint8Array }[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private readonly scope: string[] = [];
  private readonly names = new Map<string, number>();
  private readonly rng: TorchGenerator;

  /** @param seed seeds the weight generator, so a graph's weights are reproducible. */
  constructor(readonly name: string, seed: number) {
    this.rng = new TorchGenerator(seed);
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
    let bytes: Uint8Array;
    if (type === 'float32') bytes = new Uint8Array(Float32Array.from(values).buffer);
    else if (type === 'int64') bytes = new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
    else if (type === 'int32') bytes = new Uint8Array(Int32Array.from(values).buffer);
    else throw new TypeError(`initializers of type ${type} are not needed by the fixture`);
    this.initializers.push({ name: unique, dims: [...dims], type, bytes });
    return unique;
  }

  /** A learned parameter `<scope>.<name>` drawn from N(0, std^2), plus `mean`. */
  param(name: string, dims: readonly number[], std: number, mean = 0): string {
    const values = this.rng.randn(dims.length ? dims : [1]).map((v) => v * std + mean);
    return this.tensor([...this.scope, name].join('.'), dims, 'float32', values);
  }

  /** A constant (shape vectors, axes, scalars), named like the exporter's `onnx::` constants. */
  const(values: readonly number[], type: ElemType = 'int64', dims: readonly number[] = [values.length]): string {
    return this.tensor(`onnx::${this.scope.at(-1) ?? 'graph'}_const`, dims, type, values);
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

  /**
   * Serialises the model (opset 17, IR 8).
   * @param externalThreshold initializers of at least this many bytes go to `model.onnx_data`; omit to
   *   keep every weight inside `model.onnx`.
   */
  build(externalThreshold?: number): ModelFiles {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    const initializer = this.initializers.map(({ name, dims, type, bytes }) => {
      if (externalThreshold === undefined || bytes.length < externalThreshold) return { name, dims, dataType: DataType[type], rawData: bytes };
      const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      if (pad) chunks.push(new Uint8Array(pad));
      offset += pad;
      const entry = {
        name,
        dims,
        dataType: DataType[type],
        dataLocation: 1,
        externalData: [
          { key: 'location', value: EXTERNAL_DATA_FILE },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(bytes.length) },
        ],
      };
      chunks.push(bytes);
      offset += bytes.length;
      return entry;
    });
    const model = onnx.ModelProto.encode({
      irVersion: 8,
      producerName: 'ad-studio tiny-sdxl fixture',
      opsetImport: [{ domain: '', version: 17 }],
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    }).finish();
    if (!chunks.length) return { model };
    const externalData = new Uint8Array(offset);
    let at = 0;
    for (const c of chunks) {
      externalData.set(c, at);
      at += c.length;
    }
    return { model, externalData };
  }
}
