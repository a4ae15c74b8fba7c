/**
 * Line breaking by words. Korean is written in space-separated words (eojeol): a line may only break at a
 * space (or at a `\n` the writer typed), never inside a word, so "50%", "4,500원" and "크루아상과" always stay
 * whole, as do English words. A word too wide for the line shrinks the whole block instead of breaking.
 */
import { measureText, type FontMetrics } from './fontMetrics.ts';

/** The words of each paragraph (`\n`-separated) of a text. */
export function splitWords(text: string): string[][] {
  return text.split('\n').map((paragraph) => paragraph.split(' ').filter(Boolean));
}

/** One block's text broken into lines at a font size. */
export interface BrokenText {
  /** Font size in pixels. */
  fontSize: number;
  /** Words of each line. */
  lines: string[][];
  /** Width of each line in pixels (`wordWidth` of its words plus one space between words). */
  lineWidths: number[];
}

/**
 * Width of one word as satori lays it out, pixels: its advance widths rounded up to a whole pixel (satori's
 * text measure gives yoga whole-pixel widths, so every no-wrap word item is that wide).
 */
export function wordWidth(metrics: FontMetrics, word: string, fontSize: number): number {
  return Math.ceil(measureText(metrics, word, fontSize));
}

/**
 * Greedy breaking of `paragraphs` into lines no wider than `maxWidth` pixels at `fontSize`, or null when one
 * word alone is wider than that.
 */
export function breakLines(paragraphs: string[][], metrics: FontMetrics, fontSize: number, maxWidth: number): BrokenText | null {
  const space = measureText(metrics, ' ', fontSize);
  const lines: string[][] = [];
  const lineWidths: number[] = [];
  for (const words of paragraphs) {
    let line: string[] = [];
    let width = 0;
    for (const word of words) {
      const w = wordWidth(metrics, word, fontSize);
      if (w > maxWidth) return null;
      if (line.length && width + space + w <= maxWidth) {
        line.push(word);
        width += space + w;
      } else {
        if (line.length) {
          lines.push(line);
          lineWidths.push(width);
        }
        line = [word];
        width = w;
      }
    }
    if (line.length) {
      lines.push(line);
      lineWidths.push(width);
    }
  }
  return { fontSize, lines, lineWidths };
}

/**
 * Fits a text in at most `maxLines` lines of `maxWidth` pixels: at `fontSize` when it fits, otherwise at the
 * largest smaller size that does (binary search, to 0.5% of the size), never breaking a word. The lines are
 * then balanced: the narrowest width that keeps the same number of lines, so a two-line headline does not
 * leave one word alone on its second line.
 */
export function fitText(text: string, metrics: FontMetrics, fontSize: number, maxWidth: number, maxLines: number): BrokenText {
  const paragraphs = splitWords(text);
  const fits = (size: number) => {
    const broken = breakLines(paragraphs, metrics, size, maxWidth);
    return broken && broken.lines.length <= maxLines ? broken : null;
  };
  let result = fits(fontSize);
  if (!result) {
    // the widest single word caps the size; below it, more lines may still be needed
    let hi = fontSize;
    let lo = fontSize / 64;
    let best = fits(lo);
    for (let i = 0; i < 24 && hi - lo > fontSize * 0.005; i++) {
      const mid = (lo + hi) / 2;
      const broken = fits(mid);
      if (broken) {
        lo = mid;
        best = broken;
      } else hi = mid;
    }
    if (!best) throw new RangeError(`text does not fit in ${maxLines} lines of ${maxWidth} pixels at any size`);
    result = best;
  }
  // balance: the narrowest width giving the same line count
  const count = result.lines.length;
  if (count > 1) {
    let lo = 0;
    let hi = maxWidth;
    let best = result;
    for (let i = 0; i < 16 && hi - lo > 0.5; i++) {
      const mid = (lo + hi) / 2;
      const broken = breakLines(paragraphs, metrics, result.fontSize, mid);
      if (broken && broken.lines.length <= count) {
        hi = mid;
        best = broken;
      } else lo = mid;
    }
    result = best;
  }
  return result;
}
