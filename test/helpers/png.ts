import { decode } from 'fast-png';

/** Decodes a PNG to 8-bit RGBA. */
export function decodeRgba(png: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const image = decode(png);
  if (image.channels !== 4 || image.depth !== 8) throw new Error(`expected 8-bit RGBA, got ${image.channels} channels at ${image.depth} bits`);
  return { width: image.width, height: image.height, data: image.data as Uint8Array };
}

/** Largest and mean absolute difference of the RGB channels of two equal-size images, in 8-bit levels. */
export function pixelDifference(a: Uint8Array, b: Uint8Array): { max: number; mean: number } {
  if (a.length !== b.length) throw new RangeError(`images differ in size: ${a.length} vs ${b.length} bytes`);
  let max = 0;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    sum += d;
    n++;
  }
  return { max, mean: sum / n };
}
