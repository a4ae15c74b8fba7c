/**
 * Layout templates for the ad copy, per aspect ratio. Every length is a fraction of the image's short side
 * (or, for the story format's UI bands, of its height), so the same copy looks the same at 1024x1024 and
 * 1080x1080: only the scale changes.
 */
import type { Rect } from './contrast.ts';

/** Where the text block sits: `bottom` (the default), `top`, or `center` (vertically centred). */
export const OVERLAY_TEMPLATES = ['bottom', 'top', 'center'] as const;
export type OverlayTemplate = (typeof OVERLAY_TEMPLATES)[number];

/** Sizes of one text block, fractions of the short side (font size) and its line limit. */
export interface BlockStyle {
  /** Font size, fraction of the image's short side. */
  size: number;
  weight: 400 | 700;
  /** Line height, multiple of the font size. */
  lineHeight: number;
  /** Most lines the block may take; the font shrinks until the text fits. */
  maxLines: number;
}

export interface FrameSpec {
  /** The aspect ratio this spec is for, `width:height`. */
  ratio: string;
  /** Width / height. */
  value: number;
  defaultTemplate: OverlayTemplate;
  /** Left and right margin, fraction of the short side. */
  side: number;
  /** Top and bottom margin, fraction of the short side, and at least these fractions of the height (UI bands). */
  top: number;
  bottom: number;
  topOfHeight: number;
  bottomOfHeight: number;
  /** Width of the text column, fraction of the safe area's width. */
  column: number;
  /** Horizontal alignment of the text in the `top` and `bottom` templates (`center` always centres). */
  align: 'left' | 'center';
  shop_name: BlockStyle;
  headline: BlockStyle;
  subline: BlockStyle;
  badge: BlockStyle;
  watermark: BlockStyle;
  /** Vertical gap between blocks, fraction of the short side. */
  gap: number;
}

const common = {
  side: 0.06,
  top: 0.06,
  bottom: 0.06,
  topOfHeight: 0,
  bottomOfHeight: 0,
  gap: 0.016,
  shop_name: { size: 0.042, weight: 700, lineHeight: 1.3, maxLines: 1 },
  subline: { size: 0.044, weight: 400, lineHeight: 1.35, maxLines: 2 },
  badge: { size: 0.042, weight: 700, lineHeight: 1.2, maxLines: 1 },
  watermark: { size: 0.022, weight: 400, lineHeight: 1.2, maxLines: 1 },
} as const;

/** The product's five aspect ratios (`ad-cases.json`), each with its frame. */
export const FRAMES: readonly FrameSpec[] = [
  { ...common, ratio: '1:1', value: 1, defaultTemplate: 'bottom', column: 1, align: 'center', headline: { size: 0.088, weight: 700, lineHeight: 1.22, maxLines: 3 } },
  { ...common, ratio: '3:4', value: 3 / 4, defaultTemplate: 'bottom', column: 1, align: 'center', headline: { size: 0.09, weight: 700, lineHeight: 1.22, maxLines: 3 } },
  { ...common, ratio: '4:3', value: 4 / 3, defaultTemplate: 'bottom', column: 0.78, align: 'left', headline: { size: 0.088, weight: 700, lineHeight: 1.22, maxLines: 2 } },
  { ...common, ratio: '16:9', value: 16 / 9, defaultTemplate: 'bottom', column: 0.62, align: 'left', headline: { size: 0.09, weight: 700, lineHeight: 1.22, maxLines: 2 } },
  // Instagram/Reels story: the top ~14% (profile, progress bar) and the bottom ~20% (reply box) are covered by UI
  { ...common, ratio: '9:16', value: 9 / 16, defaultTemplate: 'bottom', column: 1, align: 'center', topOfHeight: 0.14, bottomOfHeight: 0.2, headline: { size: 0.092, weight: 700, lineHeight: 1.22, maxLines: 3 } },
];

/** The frame whose aspect ratio is nearest to `width / height` (by the ratio's logarithm). */
export function frameFor(width: number, height: number): FrameSpec {
  const target = Math.log(width / height);
  let best = FRAMES[0]!;
  for (const frame of FRAMES) if (Math.abs(Math.log(frame.value) - target) < Math.abs(Math.log(best.value) - target)) best = frame;
  return best;
}

/** The safe area of a `width` x `height` image in pixels: no text outside it. */
export function safeArea(frame: FrameSpec, width: number, height: number): Rect {
  const short = Math.min(width, height);
  const side = frame.side * short;
  const top = Math.max(frame.top * short, frame.topOfHeight * height);
  const bottom = Math.max(frame.bottom * short, frame.bottomOfHeight * height);
  return { x: side, y: top, width: width - 2 * side, height: height - top - bottom };
}
