/**
 * Reading and writing ONNX components for the converter, with onnx-proto (the protobuf schema of
 * onnx/onnx `onnx.proto`). Weights are read one initializer at a time (positional reads of external data,
 * ONNX "External Data" spec: `location`, `offset`, `length` beside the model file), and written into shard
 * files of bounded size, each initializer whole in one shard.
 */
import { closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type ModelProto = onnxProto.onnx.ModelProto;
/** A model to encode (plain object form). */
export type ModelMessage = onnxProto.onnx.IModelProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** ONNX `TensorProto.DataType` codes the converter handles. */
export const DT = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, float64: 11 } as const;
export const BYTES_PER_ELEMENT: Record<number, number> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

/** An int64 protobuf field as a number (onnx-proto gives `Long` objects for large values). */
export const num = (v: number | { toNumber(): number } | null | undefined): number => (typeof v === 'number' ? v : (v?.toNumber() ?? 0));

/** One initializer of a source model, read on demand. */
export interface SourceTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** The tensor's little-endian bytes (a fresh copy or a view of the decoded model). */
  bytes(): Uint8Array;
}

/** A decoded component: the graph, and its initializers by name. */
export interface SourceModel {
  model: ModelProto;
  initializers: Map<string, SourceTensor>;
  /** Closes the external-data files. */
  close(): void;
}

/** Bytes of a tensor stored in the typed fields (`float_data`, `int32_data`, `int64_data`) instead of `raw_data`. */
function typedFieldBytes(t: TensorProto): Uint8Array {
  const type = t.dataType ?? 0;
  if (type === DT.float32) return new Uint8Array(Float32Array.from(t.floatData ?? []).buffer);
  // float16, int8, uint8, bool and int32 are all stored one element per int32_data entry
  if (type === DT.float16) return new Uint8Array(Uint16Array.from(t.int32Data ?? []).buffer);
  if (type === DT.int32) return new Uint8Array(Int32Array.from(t.int32Data ?? []).buffer);
  if (type === DT.int8) return new Uint8Array(Int8Array.from(t.int32Data ?? []).buffer);
  if (type === DT.uint8 || type === DT.bool) return Uint8Array.from(t.int32Data ?? []);
  if (type === DT.int64) return new Uint8Array(BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(num(v)))).buffer);
  if (type === DT.float64) return new Uint8Array(Float64Array.from(t.doubleData ?? []).buffer);
  throw new TypeError(`${t.name}: tensor data type ${type} is not supported by the converter`);
}

/**
 * Decodes `modelPath` and indexes its initializers; external data is read from files beside it when asked for.
 * @throws Error for a file that is not an ONNX model, or an external reference outside the model's folder.
 */
export function readOnnx(modelPath: string, modelBytes: Uint8Array): SourceModel {
  const model = onnx.ModelProto.decode(modelBytes);
  const folder = dirname(modelPath);
  const files = new Map<string, number>();
  const fd = (location: string) => {
    if (location.includes('..') || location.startsWith('/')) throw new Error(`${modelPath}: external data location "${location}" leaves the model folder`);
    let handle = files.get(location);
    if (handle === undefined) files.set(location, (handle = openSync(join(folder, location), 'r')));
    return handle;
  };
  const initializers = new Map<string, SourceTensor>();
  for (const t of model.graph?.initializer ?? []) {
    const dims = (t.dims ?? []).map(num);
    const name = t.name ?? '';
    let bytes: () => Uint8Array;
    if (t.dataLocation === 1) {
      const info = Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]));
      const length = dims.reduce((n, d) => n * d, 1) * (BYTES_PER_ELEMENT[t.dataType ?? 0] ?? 0);
      const offset = Number(info['offset'] ?? 0);
      const location = String(info['location']);
      bytes = () => {
        const out = new Uint8Array(Number(info['length'] ?? length));
        let done = 0;
        while (done < out.length) {
          const n = readSync(fd(location), out, done, out.length - done, offset + done);
          if (n === 0) throw new Error(`${modelPath}: ${name} runs past the end of ${location}`);
          done += n;
        }
        return out;
      };
    } else if (t.rawData && t.rawData.length) {
      const raw = t.rawData;
      bytes = () => raw;
    } else {
      bytes = () => typedFieldBytes(t);
    }
    initializers.set(name, { name, dims, dataType: t.dataType ?? 0, bytes });
  }
  return {
    model,
    initializers,
    close() {
      for (const handle of files.values()) closeSync(handle);
      files.clear();
    },
  };
}

/** A tensor to write: name, dims, ONNX data type and little-endian bytes. */
export interface OutputTensor {
  name: string;
  dims: readonly number[];
  dataType: number;
  bytes: Uint8Array;
}

/** Files written for one component. */
export interface WrittenComponent {
  /** External-data file names, in order (`model.onnx_data`, `model.onnx_data_1`, ...). */
  shards: string[];
  /** Bytes of `model.onnx` plus every shard. */
  bytes: number;
  /** Largest single initializer, bytes. */
  largestInitializerBytes: number;
}

/** First shard `model.onnx_data`, then `model.onnx_data_1`, ... (the transformers.js naming). */
export const shardName = (index: number) => (index === 0 ? 'model.onnx_data' : `model.onnx_data_${index}`);
const ALIGN = 64;

/**
 * Writes initializers of at least `inlineBelow` bytes into shard files of at most `maxShardBytes` each (an
 * initializer is never split; one larger than the limit gets a shard of its own), smaller ones inline.
 */
export class ShardWriter {
  private readonly shards: string[] = [];
  private fd: number | undefined;
  private shardBytes = 0;
  private total = 0;
  private largest = 0;

  constructor(private readonly dir: string, private readonly maxShardBytes: number, private readonly inlineBelow = 1024) {
    mkdirSync(dir, { recursive: true });
  }

  /** Stores `t`; returns its `TensorProto` (inline `raw_data`, or an external-data reference). */
  add(t: OutputTensor): TensorProto {
    const base = { name: t.name, dims: [...t.dims], dataType: t.dataType };
    this.largest = Math.max(this.largest, t.bytes.length);
    if (t.bytes.length < this.inlineBelow) return { ...base, rawData: t.bytes };
    const pad = (ALIGN - (this.shardBytes % ALIGN)) % ALIGN;
    if (this.fd === undefined || (this.shardBytes > 0 && this.shardBytes + pad + t.bytes.length > this.maxShardBytes)) this.nextShard();
    else if (pad) this.write(new Uint8Array(pad));
    const offset = this.shardBytes;
    this.write(t.bytes);
    return {
      ...base,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: this.shards.at(-1)! },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(t.bytes.length) },
      ],
    };
  }

  private nextShard(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    const name = shardName(this.shards.length);
    this.shards.push(name);
    this.fd = openSync(join(this.dir, name), 'w');
    this.shardBytes = 0;
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done);
    this.shardBytes += bytes.length;
    this.total += bytes.length;
  }

  /** Writes `model.onnx` and closes the shards. */
  finish(model: ModelMessage): WrittenComponent {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const encoded = onnx.ModelProto.encode(model).finish();
    writeFileSync(join(this.dir, 'model.onnx'), encoded);
    return { shards: [...this.shards], bytes: encoded.length + this.total, largestInitializerBytes: this.largest };
  }
}
