/**
 * Reads what the manifest needs from an ONNX model file without loading its weights: the element type
 * of each graph input and the size of the largest initializer. Walks the protobuf wire format
 * (onnx/onnx `onnx.proto`: ModelProto.graph = 7; GraphProto.initializer = 5, input = 11;
 * TensorProto.dims = 1, data_type = 2, external_data = 13; ValueInfoProto.type = 2; TypeProto.tensor_type = 1;
 * TypeProto.Tensor.elem_type = 1) with positional reads, skipping weight bytes, so a multi-gigabyte
 * model with inline weights costs a few thousand small reads.
 */
import { open, type FileHandle } from 'node:fs/promises';

const ELEMENT_TYPES: Record<number, { name: string; bytes: number }> = {
  1: { name: 'float32', bytes: 4 },
  2: { name: 'uint8', bytes: 1 },
  3: { name: 'int8', bytes: 1 },
  6: { name: 'int32', bytes: 4 },
  7: { name: 'int64', bytes: 8 },
  9: { name: 'bool', bytes: 1 },
  10: { name: 'float16', bytes: 2 },
  11: { name: 'float64', bytes: 8 },
  16: { name: 'bfloat16', bytes: 2 },
};

export interface OnnxScan {
  /** Graph inputs (not initializers) with their element type names. */
  inputs: { name: string; type: string }[];
  /** Bytes of the largest initializer. */
  largestInitializerBytes: number;
}

class WindowReader {
  private window = new Uint8Array(0);
  private windowStart = 0;
  constructor(private readonly file: FileHandle, private readonly size: number) {}

  async byteAt(pos: number): Promise<number> {
    if (pos < this.windowStart || pos >= this.windowStart + this.window.length) {
      const length = Math.min(1 << 16, this.size - pos);
      if (length <= 0) throw new RangeError('unexpected end of ONNX file');
      this.window = new Uint8Array(length);
      await this.file.read(this.window, 0, length, pos);
      this.windowStart = pos;
    }
    return this.window[pos - this.windowStart]!;
  }

  /** Reads a varint at `pos`; returns its value and the position after it. */
  async varint(pos: number): Promise<[number, number]> {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = await this.byteAt(pos++);
      value += (b & 0x7f) * scale;
      if (b < 0x80) return [value, pos];
      scale *= 128;
    }
  }

  /** Iterates fields in [start, end): yields field number, wire type, and the payload range or value. */
  async *fields(start: number, end: number): AsyncGenerator<{ field: number; wire: number; value: number; from: number; to: number }> {
    let pos = start;
    while (pos < end) {
      const [tag, afterTag] = await this.varint(pos);
      const field = Math.floor(tag / 8);
      const wire = tag & 7;
      if (wire === 0) {
        const [value, next] = await this.varint(afterTag);
        yield { field, wire, value, from: afterTag, to: next };
        pos = next;
      } else if (wire === 2) {
        const [length, from] = await this.varint(afterTag);
        yield { field, wire, value: length, from, to: from + length };
        pos = from + length;
      } else if (wire === 1 || wire === 5) {
        pos = afterTag + (wire === 1 ? 8 : 4);
      } else {
        throw new RangeError(`unsupported protobuf wire type ${wire} at byte ${pos}`);
      }
    }
  }

  async text(from: number, to: number): Promise<string> {
    const bytes = new Uint8Array(to - from);
    await this.file.read(bytes, 0, bytes.length, from);
    return new TextDecoder().decode(bytes);
  }
}

async function tensorBytes(r: WindowReader, from: number, to: number): Promise<number> {
  let elements = 1;
  let type = 1;
  for await (const f of r.fields(from, to)) {
    if (f.field === 1 && f.wire === 0) elements *= f.value;
    else if (f.field === 1 && f.wire === 2) for (let p = f.from; p < f.to; ) {
      const [d, next] = await r.varint(p);
      elements *= d;
      p = next;
    }
    else if (f.field === 2) type = f.value;
  }
  return elements * (ELEMENT_TYPES[type]?.bytes ?? 4);
}

async function valueInfo(r: WindowReader, from: number, to: number): Promise<{ name: string; type: string }> {
  let name = '';
  let type = 'unknown';
  for await (const f of r.fields(from, to)) {
    if (f.field === 1 && f.wire === 2) name = await r.text(f.from, f.to);
    if (f.field === 2 && f.wire === 2) {
      for await (const t of r.fields(f.from, f.to)) {
        if (t.field !== 1 || t.wire !== 2) continue;
        for await (const e of r.fields(t.from, t.to)) if (e.field === 1 && e.wire === 0) type = ELEMENT_TYPES[e.value]?.name ?? `onnx-type-${e.value}`;
      }
    }
  }
  return { name, type };
}

/** @throws RangeError for a file that is not a well-formed ONNX protobuf. */
export async function scanOnnx(path: string): Promise<OnnxScan> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const r = new WindowReader(file, size);
    const inputs: { name: string; type: string }[] = [];
    const initializerNames = new Set<string>();
    let largestInitializerBytes = 0;
    for await (const top of r.fields(0, size)) {
      if (top.field !== 7 || top.wire !== 2) continue;
      for await (const g of r.fields(top.from, top.to)) {
        if (g.field === 5 && g.wire === 2) {
          largestInitializerBytes = Math.max(largestInitializerBytes, await tensorBytes(r, g.from, g.to));
          for await (const t of r.fields(g.from, g.to)) if (t.field === 8 && t.wire === 2) initializerNames.add(await r.text(t.from, t.to));
        } else if (g.field === 11 && g.wire === 2) {
          inputs.push(await valueInfo(r, g.from, g.to));
        }
      }
    }
    return { inputs: inputs.filter((i) => !initializerNames.has(i.name)), largestInitializerBytes };
  } finally {
    await file.close();
  }
}
