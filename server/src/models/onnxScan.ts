/**
 * Reads what the manifest needs from an ONNX model file without loading its weights: the element types of
 * the graph's inputs and outputs, whether it has float16 tensors (onnxruntime's WebGPU EP needs shader-f16 for
 * them), the external-data files its initializers live in, the size of the largest
 * initializer, and the bytes a session holds once onnxruntime has folded the Casts of initializers (fp16
 * weights cast to fp32 on load hold 4 bytes per element). Walks the protobuf wire format (onnx/onnx
 * `onnx.proto`: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5, input = 11, output = 12;
 * NodeProto.input = 1, op_type = 4, attribute = 5; AttributeProto.name = 1, i = 3; TensorProto.dims = 1,
 * data_type = 2, name = 8, external_data = 13; StringStringEntryProto.key = 1, value = 2;
 * ValueInfoProto.name = 1, type = 2; TypeProto.tensor_type = 1; TypeProto.Tensor.elem_type = 1) with
 * positional reads, skipping weight bytes, so a multi-gigabyte model with inline weights costs a few thousand
 * small reads.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';

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
  outputs: { name: string; type: string }[];
  /** Bytes of the largest initializer once loaded (after Cast folding): the largest weight buffer. */
  largestInitializerBytes: number;
  /** Bytes of all initializers as stored. */
  initializerBytes: number;
  /** Bytes of the initializers once every `Cast` of an initializer is folded (what a session holds). */
  residentBytes: number;
  /** External-data files, package-relative to the model's folder, in order of first use. */
  externalData: string[];
  /** Whether the model has float16 tensors: an initializer, a graph input or output, or a `Cast` to float16. */
  float16: boolean;
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

interface Initializer {
  name: string;
  elements: number;
  type: number;
  location?: string;
}

async function initializer(r: WindowReader, from: number, to: number): Promise<Initializer> {
  const out: Initializer = { name: '', elements: 1, type: 1 };
  for await (const f of r.fields(from, to)) {
    if (f.field === 1 && f.wire === 0) out.elements *= f.value;
    else if (f.field === 1 && f.wire === 2) {
      for (let p = f.from; p < f.to; ) {
        const [d, next] = await r.varint(p);
        out.elements *= d;
        p = next;
      }
    } else if (f.field === 2) out.type = f.value;
    else if (f.field === 8 && f.wire === 2) out.name = await r.text(f.from, f.to);
    else if (f.field === 13 && f.wire === 2) {
      let key = '';
      let value = '';
      for await (const e of r.fields(f.from, f.to)) {
        if (e.field === 1) key = await r.text(e.from, e.to);
        if (e.field === 2) value = await r.text(e.from, e.to);
      }
      if (key === 'location') out.location = value;
    }
  }
  return out;
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

/** A `Cast` node's input name and target type; undefined for other nodes. */
async function castNode(r: WindowReader, from: number, to: number): Promise<{ input: string; to: number } | undefined> {
  let op = '';
  let input = '';
  let target = 0;
  for await (const f of r.fields(from, to)) {
    if (f.field === 4 && f.wire === 2) op = await r.text(f.from, f.to);
    else if (f.field === 1 && f.wire === 2 && !input) input = await r.text(f.from, f.to);
    else if (f.field === 5 && f.wire === 2) {
      let name = '';
      let value = 0;
      for await (const a of r.fields(f.from, f.to)) {
        if (a.field === 1 && a.wire === 2) name = await r.text(a.from, a.to);
        if (a.field === 3 && a.wire === 0) value = a.value;
      }
      if (name === 'to') target = value;
    }
  }
  return op === 'Cast' ? { input, to: target } : undefined;
}

const scans = new Map<string, { key: string; scan: Promise<OnnxScan> }>();

/**
 * `readOnnx` of `path`, remembered while the file keeps its size and modification time (a full-size UNet's
 * header takes seconds to walk).
 * @throws RangeError for a file that is not a well-formed ONNX protobuf.
 */
export async function scanOnnx(path: string): Promise<OnnxScan> {
  const info = await stat(path);
  const key = `${info.size}:${info.mtimeMs}:${info.ino}`;
  const known = scans.get(path);
  if (known?.key === key) return known.scan;
  const scan = readOnnx(path);
  scans.set(path, { key, scan });
  scan.catch(() => scans.delete(path));
  return scan;
}

async function readOnnx(path: string): Promise<OnnxScan> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const r = new WindowReader(file, size);
    const inputs: { name: string; type: string }[] = [];
    const outputs: { name: string; type: string }[] = [];
    const initializers = new Map<string, Initializer>();
    const casts: { input: string; to: number }[] = [];
    for await (const top of r.fields(0, size)) {
      if (top.field !== 7 || top.wire !== 2) continue;
      for await (const g of r.fields(top.from, top.to)) {
        if (g.field === 5 && g.wire === 2) {
          const init = await initializer(r, g.from, g.to);
          initializers.set(init.name, init);
        } else if (g.field === 1 && g.wire === 2) {
          const cast = await castNode(r, g.from, g.to);
          if (cast) casts.push(cast);
        } else if (g.field === 11 && g.wire === 2) inputs.push(await valueInfo(r, g.from, g.to));
        else if (g.field === 12 && g.wire === 2) outputs.push(await valueInfo(r, g.from, g.to));
      }
    }
    const bytesOf = (i: Initializer, type = i.type) => i.elements * (ELEMENT_TYPES[type]?.bytes ?? 4);
    let initializerBytes = 0;
    let largestInitializerBytes = 0;
    const externalData: string[] = [];
    for (const init of initializers.values()) {
      initializerBytes += bytesOf(init);
      largestInitializerBytes = Math.max(largestInitializerBytes, bytesOf(init));
      if (init.location && !externalData.includes(init.location)) externalData.push(init.location);
    }
    let residentBytes = initializerBytes;
    for (const cast of casts) {
      const init = initializers.get(cast.input);
      if (!init) continue;
      residentBytes += bytesOf(init, cast.to) - bytesOf(init);
      largestInitializerBytes = Math.max(largestInitializerBytes, bytesOf(init, cast.to));
    }
    const float16 = [...initializers.values()].some((i) => i.type === 10) || casts.some((c) => c.to === 10) || [...inputs, ...outputs].some((v) => v.type === 'float16');
    return { inputs: inputs.filter((i) => !initializers.has(i.name)), outputs, largestInitializerBytes, initializerBytes, residentBytes, externalData, float16 };
  } finally {
    await file.close();
  }
}
