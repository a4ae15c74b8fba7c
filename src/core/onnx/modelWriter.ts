/**
 * A minimal ONNX model writer for the small graphs the pipeline builds at run time (the denoising step that
 * runs on the GPU between UNet calls): nodes, typed inputs and outputs with symbolic or fixed dims, attributes
 * of int, float and int list. Encodes the protobuf wire format of onnx/onnx `onnx.proto` directly (ModelProto:
 * ir_version = 1, producer_name = 2, graph = 7, opset_import = 8; GraphProto: node = 1, name = 2, input = 11,
 * output = 12; NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5; AttributeProto:
 * name = 1, f = 2, i = 3, ints = 8, type = 20; ValueInfoProto: name = 1, type = 2; TypeProto.tensor_type = 1;
 * Tensor: elem_type = 1, shape = 2; TensorShapeProto.dim = 1; Dimension: dim_value = 1, dim_param = 2).
 */
import type { TensorType } from '../tensor.ts';

const ELEM_TYPE: Record<TensorType, number> = { float32: 1, int32: 6, int64: 7, bool: 9, float16: 10 };

/** UTF-8 bytes of a string (the core has no TextEncoder: it targets plain ES2022). */
function utf8(text: string): Uint8Array {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

class Writer {
  private bytes: number[] = [];

  varint(value: number): this {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`the model writer encodes non-negative integers only, got ${value}`);
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }

  tag(field: number, wire: 0 | 2 | 5): this {
    return this.varint(field * 8 + wire);
  }

  int(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }

  string(field: number, value: string): this {
    return this.raw(field, utf8(value));
  }

  float(field: number, value: number): this {
    const b = new Uint8Array(new Float32Array([value]).buffer);
    this.tag(field, 5);
    this.bytes.push(...b);
    return this;
  }

  raw(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.raw(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A graph input or output: name, element type, dims (numbers fixed, strings symbolic). */
export interface ValueSpec {
  name: string;
  type: TensorType;
  dims: readonly (number | string)[];
}

/** A node: op type, input and output names, attributes (int, float or int list). */
export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs?: Record<string, number | { float: number } | readonly number[]>;
}

function valueInfo(w: Writer, v: ValueSpec): void {
  w.string(1, v.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.int(1, ELEM_TYPE[v.type]).message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
      }),
    ),
  );
}

/**
 * Encodes a model of `nodes` between `inputs` and `outputs` (ONNX IR 8, default domain opset `opset`).
 * @returns the bytes of `model.onnx`.
 */
export function writeOnnxModel(name: string, spec: { inputs: readonly ValueSpec[]; outputs: readonly ValueSpec[]; nodes: readonly NodeSpec[]; opset?: number }): Uint8Array {
  return new Writer()
    .int(1, 8)
    .string(2, 'ad-studio')
    .message(7, (graph) => {
      spec.nodes.forEach((node, i) =>
        graph.message(1, (n) => {
          for (const input of node.inputs) n.string(1, input);
          for (const output of node.outputs) n.string(2, output);
          n.string(3, `${node.op}_${i}`).string(4, node.op);
          for (const [key, value] of Object.entries(node.attrs ?? {})) {
            n.message(5, (a) => {
              a.string(1, key);
              if (typeof value === 'number') a.int(3, value).int(20, 2);
              else if (Array.isArray(value)) {
                for (const v of value as readonly number[]) a.int(8, v);
                a.int(20, 7);
              } else a.float(2, (value as { float: number }).float).int(20, 1);
            });
          }
        }),
      );
      graph.string(2, name);
      for (const input of spec.inputs) graph.message(11, (w) => valueInfo(w, input));
      for (const output of spec.outputs) graph.message(12, (w) => valueInfo(w, output));
    })
    .message(8, (opset) => opset.string(1, '').int(2, spec.opset ?? 17))
    .finish();
}
