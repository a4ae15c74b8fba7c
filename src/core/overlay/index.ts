/**
 * The ad copy over the generated picture: layout templates per aspect ratio, automatic contrast, Korean line
 * breaking by words, Pretendard, one renderer (satori + an injected resvg) with byte-identical results in the
 * browser and in Node. Platform-free: fonts come in as ArrayBuffers and the rasteriser is injected
 * (`server/src/overlay` for Node, `src/engine/overlay` for the browser).
 */
export type { RgbaImage } from '../image/rgba.ts';
export { applyScrim, composite, unpremultiply, type Scrim } from './composite.ts';
export { contrastRatio, relativeLuminance, requiredScrimAlpha, worstContrast, type Rect, type Rgb } from './contrast.ts';
export { COPY_LIMITS, TEXT_FIELDS, isEmptyCopy, validateAdCopy, type AdCopy, type NormalisedCopy, type TextField } from './copy.ts';
export { fontMetrics, measureText, type FontMetrics } from './fontMetrics.ts';
export {
  DARK_TEXT,
  LIGHT_TEXT,
  OVERLAY_FONT_FAMILY,
  TEXT_CONTRAST_TARGET,
  layoutAdCopy,
  type BlockLayout,
  type OverlayElement,
  type OverlayFonts,
  type OverlayLayout,
} from './layout.ts';
export { breakLines, fitText, splitWords, wordWidth, type BrokenText } from './lineBreak.ts';
export { overlaySvg, renderAdCopy, renderAdCopyLayers, renderOverlay, type Rasterise, type RenderOptions, type RenderedAdCopy } from './render.ts';
export { FRAMES, OVERLAY_TEMPLATES, frameFor, safeArea, type FrameSpec, type OverlayTemplate } from './templates.ts';
