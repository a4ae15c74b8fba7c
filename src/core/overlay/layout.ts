/**
 * Lays the ad copy out over a picture: the template's text stack inside the safe area, each block's font
 * fitted and its lines broken by words, the text colour and scrim chosen from the pixels behind the text.
 * Every position and size is in pixels of the image.
 */
import { EngineError } from '../errors.ts';
import type { RgbaImage } from '../image/rgba.ts';
import { assertRgbaImage } from '../image/rgba.ts';
import { scrimmedChannel, type Scrim } from './composite.ts';
import { contrastRatio, LINEAR, pixelRect, relativeLuminance, requiredScrimAlpha, type Rect, type Rgb } from './contrast.ts';
import { validateAdCopy, type AdCopy, type NormalisedCopy, type TextField } from './copy.ts';
import { fontMetrics, measureText, missingGlyphs, type FontMetrics } from './fontMetrics.ts';
import { fitText } from './lineBreak.ts';
import { frameFor, safeArea, type BlockStyle, type FrameSpec, type OverlayTemplate } from './templates.ts';

/** The two Pretendard weights the overlay draws with, as raw OTF (or TTF) bytes. */
export interface OverlayFonts {
  /** Weight 400 (sub-line, watermark). */
  regular: ArrayBuffer;
  /** Weight 700 (shop name, headline, badge). */
  bold: ArrayBuffer;
}

/** A satori element as a plain object (no JSX, no React). */
export interface OverlayElement {
  type: string;
  props: { style?: Record<string, string | number>; children?: string | OverlayElement[] };
}

/** The font family name the overlay registers its fonts under in satori. */
export const OVERLAY_FONT_FAMILY = 'Pretendard';

/** Minimum WCAG contrast the layout holds every pixel behind the text to (the headline needs 4.5:1). */
export const TEXT_CONTRAST_TARGET = 4.6;

export const LIGHT_TEXT: Rgb = [255, 255, 255];
export const DARK_TEXT: Rgb = [17, 17, 17];
const BADGE_FILL: Rgb = [255, 212, 59];
const WATERMARK_OPACITY = 0.85;

/** One laid-out text block. */
export interface BlockLayout {
  field: TextField;
  /** Font size in pixels. */
  fontSize: number;
  weight: 400 | 700;
  /** Line height in pixels. */
  lineHeight: number;
  /** The words of each line: a line never breaks inside a word. */
  lines: string[][];
  /** The box of each line's text (measured advance widths, without kerning), pixels. */
  lineRects: Rect[];
  /** The block's box: the column (or the pill, for the badge), pixels. */
  rect: Rect;
}

export interface OverlayLayout {
  width: number;
  height: number;
  /** The aspect ratio whose frame was used (the nearest of the five). */
  ratio: string;
  template: OverlayTemplate;
  align: 'left' | 'center';
  /** No text outside this rectangle, pixels. */
  safeArea: Rect;
  /** Badge, shop name, headline, sub-line (top to bottom) and the watermark, those present. */
  blocks: BlockLayout[];
  /** Colour of the shop name, headline and sub-line. */
  textColor: Rgb;
  /** Watermark colour (drawn at 85% opacity). */
  watermarkColor: Rgb;
  /** The gradient behind the text (null when the picture alone gives enough contrast). */
  scrim: Scrim | null;
  /** The scrim's alpha (0..255) over the text block. */
  scrimAlpha: number;
  /** What satori draws: the text and the badge, nothing else (the scrim is blended in core). */
  element: OverlayElement;
}

const css = ([r, g, b]: Rgb, alpha = 1) => (alpha === 1 ? `rgb(${r},${g},${b})` : `rgba(${r},${g},${b},${alpha})`);

/** Union of rectangles. */
function union(rects: Rect[]): Rect {
  const x0 = Math.min(...rects.map((r) => r.x));
  const y0 = Math.min(...rects.map((r) => r.y));
  const x1 = Math.max(...rects.map((r) => r.x + r.width));
  const y1 = Math.max(...rects.map((r) => r.y + r.height));
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/** Mean luminance of `rect` once `scrim` is blended over the picture. */
function scrimmedMeanLuminance(image: RgbaImage, rect: Rect, scrim: Scrim | null): number {
  const { x0, y0, x1, y1 } = pixelRect(rect, image.width, image.height);
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    const a = scrim ? scrim.alpha[y]! : 0;
    for (let i = (y * image.width + x0) * 4, end = (y * image.width + x1) * 4; i < end; i += 4) {
      const [r, g, b] = [0, 1, 2].map((c) => (scrim ? scrimmedChannel(image.data[i + c]!, scrim.color[c]!, a) : image.data[i + c]!));
      sum += 0.2126 * LINEAR[r!]! + 0.7152 * LINEAR[g!]! + 0.0722 * LINEAR[b!]!;
      n++;
    }
  }
  return n ? sum / n : 0;
}

/**
 * Lays out `copy` over `image`: validates it, fits every block (fonts relative to the short side, shrunk when
 * a word or the line limit demands), stacks the blocks per the template inside the safe area, measures the
 * pixels behind the text and picks light or dark text with the weakest scrim that keeps every pixel behind
 * the text at `TEXT_CONTRAST_TARGET` or more.
 * @throws EngineError `invalid_request` (issues name the field) for bad copy or characters Pretendard cannot draw.
 */
export function layoutAdCopy(copy: AdCopy | NormalisedCopy, image: RgbaImage, fonts: OverlayFonts): OverlayLayout {
  assertRgbaImage(image);
  const text = validateAdCopy(copy);
  const { width, height } = image;
  const frame = frameFor(width, height);
  const template = text.template ?? frame.defaultTemplate;
  const align = template === 'center' ? 'center' : frame.align;
  const short = Math.min(width, height);
  const safe = safeArea(frame, width, height);
  const regular = fontMetrics(fonts.regular);
  const bold = fontMetrics(fonts.bold);
  const metricsOf = (style: BlockStyle) => (style.weight === 700 ? bold : regular);

  const issues: { field: string; message: string }[] = [];
  for (const field of ['shop_name', 'headline', 'subline', 'badge', 'watermark'] as const) {
    const value = text[field];
    if (!value) continue;
    const missing = missingGlyphs(metricsOf(frame[field]), value);
    if (missing.length) issues.push({ field, message: `Pretendard has no glyph for ${missing.map((c) => JSON.stringify(c)).join(', ')}` });
  }
  if (issues.length) throw new EngineError('invalid_request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);

  const columnWidth = safe.width * frame.column;
  const columnX = align === 'center' ? safe.x + (safe.width - columnWidth) / 2 : safe.x;
  const gap = frame.gap * short;

  /** A text block fitted to `maxWidth`, its boxes relative to (0, 0) for now. */
  const fit = (field: TextField, maxWidth: number) => {
    const style = frame[field];
    const metrics = metricsOf(style);
    const broken = fitText(text[field]!, metrics, style.size * short, maxWidth, style.maxLines);
    const lineHeight = broken.fontSize * style.lineHeight;
    return { field, style, metrics, broken, lineHeight, height: lineHeight * broken.lines.length };
  };
  type Fitted = ReturnType<typeof fit>;
  const place = (f: Fitted, x: number, y: number, boxWidth: number, lineAlign: 'left' | 'center' | 'right'): BlockLayout => ({
    field: f.field,
    fontSize: f.broken.fontSize,
    weight: f.style.weight,
    lineHeight: f.lineHeight,
    lines: f.broken.lines,
    lineRects: f.broken.lineWidths.map((w, i) => ({
      x: x + (lineAlign === 'left' ? 0 : lineAlign === 'center' ? (boxWidth - w) / 2 : boxWidth - w),
      y: y + i * f.lineHeight,
      width: w,
      height: f.lineHeight,
    })),
    rect: { x, y, width: boxWidth, height: f.height },
  });

  // watermark: bottom-right corner of the safe area
  let watermark: BlockLayout | null = null;
  let watermarkFit: Fitted | null = null;
  if (text.watermark) {
    watermarkFit = fit('watermark', safe.width / 2);
    const w = watermarkFit.broken.lineWidths[0]!;
    watermark = place(watermarkFit, safe.x + safe.width - w, safe.y + safe.height - watermarkFit.height, w, 'right');
  }

  // the stack: badge, shop name, headline, sub-line
  const badgePadX = 0.7;
  const badgePadY = 0.32;
  const stack: { fitted: Fitted; height: number; badge: boolean }[] = [];
  if (text.badge) {
    const fitted = fit('badge', columnWidth - 2 * badgePadX * frame.badge.size * short);
    stack.push({ fitted, height: fitted.height + 2 * badgePadY * fitted.broken.fontSize, badge: true });
  }
  for (const field of ['shop_name', 'headline', 'subline'] as const) {
    if (text[field]) {
      const fitted = fit(field, columnWidth);
      stack.push({ fitted, height: fitted.height, badge: false });
    }
  }
  const stackHeight = stack.reduce((sum, item) => sum + item.height, 0) + gap * Math.max(0, stack.length - 1);
  const stackTop =
    template === 'top'
      ? safe.y
      : template === 'center'
        ? safe.y + (safe.height - stackHeight) / 2
        : safe.y + safe.height - stackHeight - (watermarkFit ? watermarkFit.height + gap : 0);

  const blocks: BlockLayout[] = [];
  let y = stackTop;
  for (const item of stack) {
    if (item.badge) {
      const size = item.fitted.broken.fontSize;
      const pillWidth = item.fitted.broken.lineWidths[0]! + 2 * badgePadX * size;
      const pillX = align === 'center' ? columnX + (columnWidth - pillWidth) / 2 : columnX;
      const block = place(item.fitted, pillX + badgePadX * size, y + badgePadY * size, pillWidth - 2 * badgePadX * size, 'center');
      block.rect = { x: pillX, y, width: pillWidth, height: item.height };
      blocks.push(block);
    } else {
      blocks.push(place(item.fitted, columnX, y, columnWidth, align));
    }
    y += item.height + gap;
  }

  // contrast: the weakest scrim that holds every pixel behind the text lines to the target
  const textBlocks = blocks.filter((b) => b.field !== 'badge');
  const pad = 0.02 * short;
  const textRects = textBlocks.flatMap((b) => b.lineRects.map((r) => ({ x: r.x - pad, y: r.y, width: r.width + 2 * pad, height: r.height })));
  let textColor = LIGHT_TEXT;
  let scrimColor: Rgb = [0, 0, 0];
  let scrimAlpha = 0;
  if (textRects.length) {
    const light = Math.max(...textRects.map((r) => requiredScrimAlpha(image, r, LIGHT_TEXT, [0, 0, 0], TEXT_CONTRAST_TARGET)));
    const dark = light === 0 ? 255 : Math.max(...textRects.map((r) => requiredScrimAlpha(image, r, DARK_TEXT, [255, 255, 255], TEXT_CONTRAST_TARGET)));
    if (dark < light) {
      textColor = DARK_TEXT;
      scrimColor = [255, 255, 255];
      scrimAlpha = dark;
    } else scrimAlpha = light;
  }

  let scrim: Scrim | null = null;
  if (scrimAlpha > 0) {
    const all = union(blocks.filter((b) => b.field !== 'watermark').map((b) => b.rect));
    const bandTop = template === 'top' ? 0 : all.y - pad;
    const bandBottom = template === 'bottom' ? height : all.y + all.height + pad;
    const feather = 0.22 * short;
    const alpha = new Uint8Array(height);
    for (let row = 0; row < height; row++) {
      const centre = row + 0.5;
      const distance = centre < bandTop ? bandTop - centre : centre > bandBottom ? centre - bandBottom : 0;
      // rows touching the band get the full alpha; outside, a smoothstep fade over `feather` pixels
      const inBand = row + 1 > bandTop && row < bandBottom;
      const t = inBand ? 1 : Math.max(0, 1 - distance / feather);
      alpha[row] = Math.round(scrimAlpha * t * t * (3 - 2 * t));
    }
    scrim = { color: scrimColor, alpha };
  }

  let watermarkColor = LIGHT_TEXT;
  if (watermark) {
    const l = scrimmedMeanLuminance(image, watermark.rect, scrim);
    watermarkColor = contrastRatio(relativeLuminance(LIGHT_TEXT), l) >= contrastRatio(relativeLuminance(DARK_TEXT), l) ? LIGHT_TEXT : DARK_TEXT;
    blocks.push(watermark);
  }

  const element = overlayElement(width, height, blocks, frame, { text: textColor, watermark: watermarkColor }, { bold, regular });
  return { width, height, ratio: frame.ratio, template, align, safeArea: safe, blocks, textColor, watermarkColor, scrim, scrimAlpha, element };
}

/** The satori tree: one absolutely placed row per line, one no-wrap item per word. */
function overlayElement(
  width: number,
  height: number,
  blocks: BlockLayout[],
  frame: FrameSpec,
  colors: { text: Rgb; watermark: Rgb },
  fonts: { bold: FontMetrics; regular: FontMetrics },
): OverlayElement {
  const children: OverlayElement[] = [];
  for (const block of blocks) {
    const metrics = block.weight === 700 ? fonts.bold : fonts.regular;
    const space = measureText(metrics, ' ', block.fontSize);
    const color = block.field === 'badge' ? css([17, 17, 17]) : block.field === 'watermark' ? css(colors.watermark, WATERMARK_OPACITY) : css(colors.text);
    if (block.field === 'badge') {
      children.push({
        type: 'div',
        props: { style: { position: 'absolute', left: block.rect.x, top: block.rect.y, width: block.rect.width, height: block.rect.height, borderRadius: block.rect.height / 2, backgroundColor: css(BADGE_FILL) } },
      });
    }
    block.lines.forEach((words, i) => {
      const line = block.lineRects[i]!;
      children.push({
        type: 'div',
        props: {
          style: {
            position: 'absolute',
            left: line.x,
            top: line.y,
            height: line.height,
            display: 'flex',
            flexDirection: 'row',
            flexWrap: 'nowrap',
            alignItems: 'center',
            fontFamily: OVERLAY_FONT_FAMILY,
            fontSize: block.fontSize,
            fontWeight: block.weight,
            lineHeight: frame[block.field].lineHeight,
            color,
          },
          children: words.map((word, j) => ({
            type: 'div',
            props: { style: { display: 'flex', flexShrink: 0, whiteSpace: 'nowrap', ...(j ? { marginLeft: space } : {}) }, children: word },
          })),
        },
      });
    });
  }
  return { type: 'div', props: { style: { display: 'flex', position: 'relative', width, height }, children } };
}
