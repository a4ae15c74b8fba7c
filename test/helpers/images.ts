import { encode as encodePng } from 'fast-png';

/** A synthetic RGB photo (gradients and a disc), as a PNG data URL, for image-to-image tests. */
export function referencePhoto(width: number, height: number): string {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inside = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 3) ** 2;
      const p = (y * width + x) * 3;
      data[p] = inside ? 220 : Math.round((255 * x) / width);
      data[p + 1] = inside ? 160 : Math.round((255 * y) / height);
      data[p + 2] = inside ? 60 : 128;
    }
  }
  return `data:image/png;base64,${Buffer.from(encodePng({ width, height, data, channels: 3 })).toString('base64')}`;
}
