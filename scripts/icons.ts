/**
 * The app's PNG icons, from `public/icon.svg` (run `npm run icons` after changing it; the PNGs are committed):
 *
 * - `icon-192.png`, `icon-512.png`: the SVG as drawn (rounded tile, transparent corners), `purpose: any`
 * - `icon-maskable-512.png`: full-bleed background (a launcher may crop it to a circle, a squircle or a square)
 *   with the picture scaled to 80% about the centre, so all of it lies inside the central 80% circle, the
 *   maskable safe zone (https://www.w3.org/TR/appmanifest/#icon-masks)
 * - `apple-touch-icon.png`: 180 px, full-bleed and opaque, with no alpha channel (iOS draws transparent
 *   pixels black and rounds the corners itself)
 *
 * Rendered with resvg (no system fonts: the icon has no text); the opaque ones are re-encoded as RGB with
 * fast-png. The output is deterministic: the same SVG gives the same bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { encode } from 'fast-png';

const PUBLIC = resolve(import.meta.dirname, '../public');

/** The tile's colour and the picture inside it, read from icon.svg (its first rect is the tile). */
export function iconParts(svg: string): { background: string; picture: string } {
  const tile = /<rect\b[^>]*\bwidth="512"[^>]*\/>/.exec(svg);
  const fill = tile && /\bfill="([^"]+)"/.exec(tile[0]);
  if (!tile || !fill) throw new Error('icon.svg: expected a 512x512 <rect> tile with a fill as its first shape');
  const body = svg.slice(svg.indexOf('>', svg.indexOf('<svg')) + 1, svg.lastIndexOf('</svg>'));
  return { background: fill[1]!, picture: body.replace(tile[0], '').trim() };
}

/** A full-bleed square: the tile's colour edge to edge, the picture scaled by `scale` about the centre. */
export function fullBleedSvg(svg: string, scale: number): string {
  const { background, picture } = iconParts(svg);
  const offset = (256 * (1 - scale)).toFixed(3);
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512"><rect width="512" height="512" fill="${background}"/><g transform="translate(${offset} ${offset}) scale(${scale})">${picture}</g></svg>`;
}

function render(svg: string, size: number): Resvg {
  return new Resvg(svg, { fitTo: { mode: 'width', value: size }, font: { loadSystemFonts: false } });
}

/** A PNG with an alpha channel, as resvg writes it. */
function rgbaPng(svg: string, size: number): Uint8Array {
  return render(svg, size).render().asPng();
}

/** An opaque PNG without an alpha channel (colour type 2). */
function rgbPng(svg: string, size: number): Uint8Array {
  const image = render(svg, size).render();
  const rgba = image.pixels;
  const rgb = new Uint8Array(image.width * image.height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    if (rgba[i + 3] !== 255) throw new Error(`icon: pixel ${i / 4} is not opaque`);
    rgb[j] = rgba[i]!;
    rgb[j + 1] = rgba[i + 1]!;
    rgb[j + 2] = rgba[i + 2]!;
  }
  return encode({ width: image.width, height: image.height, data: rgb, channels: 3, depth: 8 });
}

/** Every icon file name with its bytes. */
export function icons(svg: string): Record<string, Uint8Array> {
  return {
    'icon-192.png': rgbaPng(svg, 192),
    'icon-512.png': rgbaPng(svg, 512),
    // the picture's corners are 205 px from the centre at full size; at 80% they are 164 px, inside the 205 px safe circle
    'icon-maskable-512.png': rgbPng(fullBleedSvg(svg, 0.8), 512),
    'apple-touch-icon.png': rgbPng(fullBleedSvg(svg, 0.9), 180),
  };
}

if (process.argv[1] === import.meta.filename) {
  for (const [name, bytes] of Object.entries(icons(readFileSync(join(PUBLIC, 'icon.svg'), 'utf8')))) {
    writeFileSync(join(PUBLIC, name), bytes);
    console.log(`public/${name}: ${bytes.length} bytes`);
  }
}
