/**
 * Plain tensors shared by the pipeline core and the runtime adapters.
 *
 * The core never touches an onnxruntime package: each host (browser worker, Node server)
 * converts these to and from its own `ort.Tensor` in its runtime adapter.
 */

/**
 * Element types the graphs use (optimum exports: float32 or float16 weights, int32/int64 ids; `bool` for a
 * merged decoder's `use_cache_branch`).
 */
export type TensorType = 'float32' | 'float16' | 'int32' | 'int64' | 'bool';

/** Typed-array storage per element type. float16 is stored as IEEE half bits in a Uint16Array. */
export interface TensorDataMap {
  float32: Float32Array;
  float16: Uint16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  /** One byte per element, 0 or 1 (as onnxruntime's `bool` tensors). */
  bool: Uint8Array;
}

/** A dense row-major tensor. `dims` are element counts per axis (NCHW for images and latents). */
export type Tensor = {
  [T in TensorType]: { readonly type: T; readonly data: TensorDataMap[T]; readonly dims: readonly number[] };
}[TensorType];

export type Float32Tensor = Extract<Tensor, { type: 'float32' }>;

/** Number of elements for the given dims. @throws RangeError when a dim is negative or fractional. */
export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid tensor dim ${d} in [${dims.join(', ')}]`);
    n *= d;
  }
  return n;
}

/**
 * Wraps a Float32Array as a float32 tensor.
 * @throws RangeError when `data.length` does not match `dims`.
 */
export function float32(data: Float32Array, dims: readonly number[]): Float32Tensor {
  if (data.length !== elementCount(dims)) {
    throw new RangeError(`float32 tensor: ${data.length} elements do not fit dims [${dims.join(', ')}]`);
  }
  return { type: 'float32', data, dims: [...dims] };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * float32 -> IEEE 754 binary16 bits, round to nearest even (as numpy `astype(float16)` and torch `.half()`).
 * Overflow gives +-Inf, NaN stays NaN, subnormals are kept.
 */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (h & 1))) h += 1;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h += 1; // may carry into the exponent: still correct
  return sign | h;
}

/** IEEE 754 binary16 bits -> number (exact). */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Converts a float tensor to the element type a session input expects.
 * @throws TypeError for a conversion the pipeline never needs (float to int).
 */
export function castFloat(t: Float32Tensor, type: TensorType): Tensor {
  if (type === 'float32') return t;
  if (type === 'float16') {
    const out = new Uint16Array(t.data.length);
    for (let i = 0; i < out.length; i++) out[i] = toHalfBits(t.data[i]!);
    return { type, data: out, dims: t.dims };
  }
  throw new TypeError(`cannot cast float32 tensor to ${type}`);
}

/**
 * Any float output (float32 or float16) as float32.
 * @throws TypeError for integer tensors.
 */
export function asFloat32(t: Tensor): Float32Tensor {
  if (t.type === 'float32') return t;
  if (t.type === 'float16') {
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < out.length; i++) out[i] = fromHalfBits(t.data[i]!);
    return { type: 'float32', data: out, dims: t.dims };
  }
  throw new TypeError(`expected a float tensor, got ${t.type}`);
}

/** Integer ids as the element type a session input expects (CLIP exports use int32 or int64 input_ids). */
export function intTensor(values: ArrayLike<number>, dims: readonly number[], type: TensorType): Tensor {
  if (values.length !== elementCount(dims)) throw new RangeError(`${values.length} ids do not fit [${dims.join(', ')}]`);
  if (type === 'int64') return { type, data: BigInt64Array.from(Array.from(values, (v) => BigInt(v))), dims: [...dims] };
  if (type === 'int32') return { type, data: Int32Array.from(values), dims: [...dims] };
  throw new TypeError(`expected an integer input type, got ${type}`);
}

/**
 * Concatenates float32 tensors along axis 0 (the batch axis).
 * @throws RangeError when the trailing dims differ.
 */
export function concatBatch(parts: readonly Float32Tensor[]): Float32Tensor {
  const first = parts[0];
  if (!first) throw new RangeError('concatBatch needs at least one tensor');
  const tail = first.dims.slice(1).join(',');
  let batch = 0;
  for (const p of parts) {
    if (p.dims.slice(1).join(',') !== tail) throw new RangeError(`concatBatch: [${p.dims}] does not match [${first.dims}]`);
    batch += p.dims[0]!;
  }
  const out = new Float32Array(parts.reduce((n, p) => n + p.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return float32(out, [batch, ...first.dims.slice(1)]);
}

/** Splits a float32 tensor into its batch entries (views, no copy). */
export function splitBatch(t: Float32Tensor): Float32Tensor[] {
  const batch = t.dims[0] ?? 0;
  const size = t.data.length / Math.max(batch, 1);
  return Array.from({ length: batch }, (_, i) => float32(t.data.subarray(i * size, (i + 1) * size), [1, ...t.dims.slice(1)]));
}
