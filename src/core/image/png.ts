import { encode } from 'fast-png';

/**
 * Encodes 8-bit RGBA pixels as a PNG file (fast-png, pure JavaScript: the same bytes in the browser and on
 * the server for the same pixels).
 * @param rgba row-major RGBA, `width * height * 4` bytes.
 * @throws RangeError when the buffer size does not match the dimensions.
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (rgba.length !== width * height * 4) throw new RangeError(`${rgba.length} bytes is not ${width}x${height} RGBA`);
  return encode({ width, height, data: rgba, channels: 4, depth: 8 });
}
