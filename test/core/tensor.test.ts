import { describe, expect, it } from 'vitest';
import { asFloat32, castFloat, concatBatch, float32, fromHalfBits, intTensor, splitBatch, toHalfBits } from '../../src/core/tensor.ts';

describe('float16 conversion (fp16 exports take and return half-precision tensors)', () => {
  it('encodes IEEE binary16 exactly for representable values', () => {
    // IEEE 754 binary16 bit patterns
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(0.333251953125)).toBe(0x3555);
    expect(toHalfBits(Infinity)).toBe(0x7c00);
    expect(toHalfBits(1e6)).toBe(0x7c00);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
  });

  it('rounds to nearest even, as torch .half() and numpy astype(float16)', () => {
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and 1+2^-10: stays even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // halfway, rounds up to even
    expect(toHalfBits(2 ** -25)).toBe(0x0000);
    expect(toHalfBits(3 * 2 ** -26)).toBe(0x0001);
  });

  it('round-trips every half value', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = fromHalfBits(h);
      if (Number.isNaN(v)) continue;
      expect(toHalfBits(v)).toBe(h === 0x8000 ? 0x8000 : h);
    }
  });

  it('casts float32 tensors for a session and back', () => {
    const t = float32(Float32Array.from([0.5, -1.25, 3]), [1, 3]);
    const half = castFloat(t, 'float16');
    expect(half.type).toBe('float16');
    expect(Array.from(asFloat32(half).data)).toEqual([0.5, -1.25, 3]);
    expect(() => castFloat(t, 'int64')).toThrow(TypeError);
  });
});

describe('batch helpers', () => {
  it('concatenate and split on axis 0', () => {
    const a = float32(Float32Array.from([1, 2]), [1, 2]);
    const b = float32(Float32Array.from([3, 4]), [1, 2]);
    const both = concatBatch([a, b]);
    expect(both.dims).toEqual([2, 2]);
    expect(splitBatch(both).map((t) => Array.from(t.data))).toEqual([[1, 2], [3, 4]]);
    expect(() => concatBatch([a, float32(new Float32Array(3), [1, 3])])).toThrow(RangeError);
  });

  it('builds int32 and int64 id tensors', () => {
    expect(intTensor([49406, 49407], [1, 2], 'int64').data).toEqual(BigInt64Array.from([49406n, 49407n]));
    expect(intTensor([1, 2], [1, 2], 'int32').data).toEqual(Int32Array.from([1, 2]));
    expect(() => intTensor([1], [1, 2], 'int32')).toThrow(RangeError);
  });
});
