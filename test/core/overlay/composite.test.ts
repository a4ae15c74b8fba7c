import { describe, expect, it } from 'vitest';
import { applyScrim, composite, unpremultiply } from '../../../src/core/overlay/index.ts';
import { solid } from './helpers.ts';

describe('overlay compositing (integer-exact)', () => {
  it('blends straight alpha: transparent keeps, opaque replaces, 50% is the rounded mean', () => {
    const image = solid(3, 1, 200);
    const overlay = { width: 3, height: 1, data: new Uint8Array([9, 9, 9, 0, 10, 20, 30, 255, 0, 0, 0, 128]) };
    const out = composite(image, overlay);
    expect([...out.data]).toEqual([200, 200, 200, 255, 10, 20, 30, 255, 100, 100, 100, 255]); // 200*127/255 = 99.6
    expect([...image.data.slice(0, 4)]).toEqual([200, 200, 200, 255]); // input untouched
  });

  it('over a transparent destination the source comes through unchanged', () => {
    const image = { width: 1, height: 1, data: new Uint8Array([50, 60, 70, 0]) };
    const out = composite(image, { width: 1, height: 1, data: new Uint8Array([255, 0, 0, 77]) });
    expect([...out.data]).toEqual([255, 0, 0, 77]);
  });

  it('unpremultiplies resvg output: 50% red 127,0,0,127 is 255,0,0,127', () => {
    expect([...unpremultiply(new Uint8Array([127, 0, 0, 127, 0, 0, 0, 0, 10, 20, 30, 255, 1, 1, 1, 2]))]).toEqual([255, 0, 0, 127, 0, 0, 0, 0, 10, 20, 30, 255, 128, 128, 128, 2]);
  });

  it('applies a per-row scrim with the same blend', () => {
    const out = applyScrim(solid(2, 2, 255), { color: [0, 0, 0], alpha: new Uint8Array([0, 128]) });
    expect([...out.data]).toEqual([255, 255, 255, 255, 255, 255, 255, 255, 127, 127, 127, 255, 127, 127, 127, 255]);
  });

  it('rejects different sizes', () => {
    expect(() => composite(solid(2, 2, 0), solid(2, 3, 0))).toThrow(RangeError);
  });
});
