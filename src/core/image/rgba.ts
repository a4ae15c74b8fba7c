/**
 * An RGBA picture in memory: 8 bits per channel, straight (not premultiplied) alpha, rows top to bottom, each
 * row left to right, `data.length === width * height * 4`.
 */
export interface RgbaImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** RGBA bytes, straight alpha, row-major. */
  data: Uint8Array;
}

/** Throws a RangeError unless `image` is a well-formed RgbaImage (positive integer size, matching byte length). */
export function assertRgbaImage(image: RgbaImage, name = 'image'): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${name}: width and height must be positive integers (got ${width}x${height})`);
  }
  if (!(data instanceof Uint8Array) || data.length !== width * height * 4) {
    throw new RangeError(`${name}: data must be a Uint8Array of width * height * 4 = ${width * height * 4} bytes (got ${data?.length})`);
  }
}
