import type { RgbImage } from './decode.ts';

/**
 * The EXIF orientation (1-8) of a JPEG file, from the IFD0 Orientation tag (0x0112) of its APP1 "Exif"
 * segment (EXIF 2.32 / TIFF 6.0); 1 (upright) when absent or unreadable.
 */
export function jpegOrientation(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 2;
  while (pos + 4 <= bytes.length && bytes[pos] === 0xff) {
    const marker = bytes[pos + 1]!;
    const length = view.getUint16(pos + 2);
    if (marker === 0xda) break; // start of scan: no more metadata
    if (marker === 0xe1 && length >= 16 && String.fromCharCode(...bytes.subarray(pos + 4, pos + 8)) === 'Exif') {
      const tiff = pos + 10;
      const little = view.getUint16(tiff) === 0x4949;
      const u16 = (at: number) => view.getUint16(at, little);
      const ifd = tiff + view.getUint32(tiff + 4, little);
      if (ifd + 2 > bytes.length) return 1;
      const count = u16(ifd);
      for (let i = 0; i < count; i++) {
        const entry = ifd + 2 + i * 12;
        if (entry + 10 > bytes.length) return 1;
        if (u16(entry) === 0x0112) {
          const value = u16(entry + 8);
          return value >= 1 && value <= 8 ? value : 1;
        }
      }
      return 1;
    }
    pos += 2 + length;
  }
  return 1;
}

/**
 * Turns an image upright for its EXIF orientation, as Pillow's `ImageOps.exif_transpose`
 * (2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 anticlockwise).
 */
export function applyOrientation(image: RgbImage, orientation: number): RgbImage {
  if (orientation === 1) return image;
  const { width: w, height: h, data } = image;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const outH = swap ? w : h;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      // source pixel for output (x, y)
      const [sx, sy] =
        orientation === 2 ? [w - 1 - x, y]
        : orientation === 3 ? [w - 1 - x, h - 1 - y]
        : orientation === 4 ? [x, h - 1 - y]
        : orientation === 5 ? [y, x]
        : orientation === 6 ? [y, h - 1 - x]
        : orientation === 7 ? [w - 1 - y, h - 1 - x]
        : [w - 1 - y, x];
      out.set(data.subarray((sy * w + sx) * 3, (sy * w + sx) * 3 + 3), (y * outW + x) * 3);
    }
  }
  return { width: outW, height: outH, data: out };
}
