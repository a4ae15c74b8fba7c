/**
 * One renderer for the browser and the server: satori lays the copy out to SVG with the text as paths (no
 * system fonts), resvg rasterises it (resvg-wasm in the browser, resvg-js in Node: the same Rust code, the
 * same bytes), and core blends the scrim and the text over the picture with integer arithmetic.
 */
import satori from 'satori';
import { assertRgbaImage, type RgbaImage } from '../image/rgba.ts';
import { applyScrim, composite, unpremultiply } from './composite.ts';
import { isEmptyCopy, validateAdCopy, type AdCopy } from './copy.ts';
import { layoutAdCopy, OVERLAY_FONT_FAMILY, type OverlayFonts, type OverlayLayout } from './layout.ts';

/**
 * Rasterises an SVG at its own size (`width`/`height` attributes, pixels), with no system fonts
 * (`font: { loadSystemFonts: false }`: satori already turned the text into paths).
 * `rgba` is what resvg's `RenderedImage.pixels` gives: PREMULTIPLIED RGBA, row-major, `width * height * 4`
 * bytes (tiny-skia's pixmap; checked in test/core/overlay: a 50% red square reads 127,0,0,127).
 */
export type Rasterise = (svg: string) => Promise<{ width: number; height: number; rgba: Uint8Array }>;

export interface RenderOptions {
  fonts: OverlayFonts;
  rasterise: Rasterise;
}

/** satori's font list per OverlayFonts object: satori caches parsed fonts by the array's identity. */
const satoriFonts = new WeakMap<OverlayFonts, Parameters<typeof satori>[1]['fonts']>();

/** The satori font list (Pretendard 400 and 700) for `fonts`, the same array for the same object. */
function fontsFor(fonts: OverlayFonts) {
  let list = satoriFonts.get(fonts);
  if (!list) {
    list = [
      { name: OVERLAY_FONT_FAMILY, data: fonts.regular, weight: 400, style: 'normal' },
      { name: OVERLAY_FONT_FAMILY, data: fonts.bold, weight: 700, style: 'normal' },
    ];
    satoriFonts.set(fonts, list);
  }
  return list;
}

/** The SVG (satori, text as paths) of a layout: the text and the badge on a transparent background. */
export async function overlaySvg(layout: OverlayLayout, fonts: OverlayFonts): Promise<string> {
  // satori's typings want a ReactNode; a plain { type, props } object is what it walks
  return satori(layout.element as unknown as Parameters<typeof satori>[0], { width: layout.width, height: layout.height, fonts: fontsFor(fonts) });
}

/**
 * The text layer of a layout, rasterised: straight-alpha RGBA at the image's size (pixels), without the scrim.
 * @throws RangeError when the rasteriser returns another size.
 */
export async function renderOverlay(layout: OverlayLayout, { fonts, rasterise }: RenderOptions): Promise<RgbaImage> {
  const svg = await overlaySvg(layout, fonts);
  const raster = await rasterise(svg);
  if (raster.width !== layout.width || raster.height !== layout.height || raster.rgba.length !== layout.width * layout.height * 4) {
    throw new RangeError(`rasteriser returned ${raster.width}x${raster.height} (${raster.rgba.length} bytes) for a ${layout.width}x${layout.height} overlay`);
  }
  return { width: raster.width, height: raster.height, data: unpremultiply(new Uint8Array(raster.rgba)) };
}

/** Everything `renderAdCopy` computes: the layout, the text layer and the result. */
export interface RenderedAdCopy {
  layout: OverlayLayout;
  /** The text layer alone (straight alpha), pixels of the image's size. */
  overlay: RgbaImage;
  /** The picture with the scrim and the text blended over it. */
  image: RgbaImage;
}

/**
 * Lays out, rasterises and composites the copy over `image`, returning every stage (see `renderAdCopy`).
 * @returns null when the copy has no text.
 */
export async function renderAdCopyLayers(copy: AdCopy, image: RgbaImage, options: RenderOptions): Promise<RenderedAdCopy | null> {
  assertRgbaImage(image);
  const text = validateAdCopy(copy);
  if (isEmptyCopy(text)) return null;
  const layout = layoutAdCopy(text, image, options.fonts);
  const overlay = await renderOverlay(layout, options);
  const scrimmed = layout.scrim ? applyScrim(image, layout.scrim) : image;
  return { layout, overlay, image: composite(scrimmed, overlay) };
}

/**
 * The picture with the ad copy over it, at full resolution (same width and height, pixels). Copy with no text
 * returns `image` itself, unchanged.
 * @throws EngineError `invalid_request` with issues naming the field (too long, control characters, a
 *   character Pretendard cannot draw, an unknown template); RangeError for a malformed image.
 */
export async function renderAdCopy(copy: AdCopy, image: RgbaImage, options: RenderOptions): Promise<RgbaImage> {
  const rendered = await renderAdCopyLayers(copy, image, options);
  return rendered ? rendered.image : image;
}
