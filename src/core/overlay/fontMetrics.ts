/**
 * Just enough of an OpenType/TrueType reader to measure text for line breaking: `head` (units per em),
 * `hhea` (ascender, descender, number of metrics), `hmtx` (advance widths) and `cmap` (formats 4 and 12).
 * No shaping and no kerning: satori (HarfBuzz) applies kerning, which in Pretendard only ever tightens pairs,
 * so widths measured here are the same or slightly wider than drawn; layout keeps a small slack for that.
 */

export interface FontMetrics {
  unitsPerEm: number;
  /** hhea ascender and descender (descender negative), font units. */
  ascender: number;
  descender: number;
  /** Glyph id for a code point, 0 (.notdef) when the font has none. */
  glyphId(codePoint: number): number;
  /** Advance width of a code point, font units (the .notdef advance when missing). */
  advance(codePoint: number): number;
}

const cache = new WeakMap<ArrayBuffer, FontMetrics>();

/**
 * Parses (once per buffer, cached) the metrics of an OpenType font.
 * @throws RangeError when the data is not an OpenType/TrueType font with the tables above.
 */
export function fontMetrics(data: ArrayBuffer): FontMetrics {
  const cached = cache.get(data);
  if (cached) return cached;
  const view = new DataView(data);
  if (view.byteLength < 12) throw new RangeError('font: too short to be an OpenType font');
  const numTables = view.getUint16(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const record = 12 + i * 16;
    const tag = String.fromCharCode(view.getUint8(record), view.getUint8(record + 1), view.getUint8(record + 2), view.getUint8(record + 3));
    tables.set(tag, view.getUint32(record + 8));
  }
  const table = (tag: string) => {
    const offset = tables.get(tag);
    if (offset === undefined) throw new RangeError(`font: no ${tag} table`);
    return offset;
  };
  const head = table('head');
  const hhea = table('hhea');
  const hmtx = table('hmtx');
  const cmap = table('cmap');
  const unitsPerEm = view.getUint16(head + 18);
  const ascender = view.getInt16(hhea + 4);
  const descender = view.getInt16(hhea + 6);
  const numberOfHMetrics = view.getUint16(hhea + 34);

  // cmap: prefer a full-Unicode format 12 subtable, else a BMP format 4 one
  let format12 = -1;
  let format4 = -1;
  const subtables = view.getUint16(cmap + 2);
  for (let i = 0; i < subtables; i++) {
    const platform = view.getUint16(cmap + 4 + i * 8);
    const encoding = view.getUint16(cmap + 6 + i * 8);
    const offset = cmap + view.getUint32(cmap + 8 + i * 8);
    const format = view.getUint16(offset);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12 && format12 < 0) format12 = offset;
    if (format === 4 && format4 < 0) format4 = offset;
  }
  if (format12 < 0 && format4 < 0) throw new RangeError('font: no Unicode cmap subtable (format 4 or 12)');

  const lookup12 = (cp: number): number => {
    const groups = view.getUint32(format12 + 12);
    let lo = 0;
    let hi = groups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const g = format12 + 16 + mid * 12;
      const start = view.getUint32(g);
      const end = view.getUint32(g + 4);
      if (cp < start) hi = mid - 1;
      else if (cp > end) lo = mid + 1;
      else return view.getUint32(g + 8) + (cp - start);
    }
    return 0;
  };
  const lookup4 = (cp: number): number => {
    if (cp > 0xffff) return 0;
    const segCount = view.getUint16(format4 + 6) / 2;
    const ends = format4 + 14;
    const starts = ends + segCount * 2 + 2;
    const deltas = starts + segCount * 2;
    const rangeOffsets = deltas + segCount * 2;
    for (let s = 0; s < segCount; s++) {
      if (cp > view.getUint16(ends + s * 2)) continue;
      const start = view.getUint16(starts + s * 2);
      if (cp < start) return 0;
      const delta = view.getInt16(deltas + s * 2);
      const rangeOffset = view.getUint16(rangeOffsets + s * 2);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const at = rangeOffsets + s * 2 + rangeOffset + (cp - start) * 2;
      const glyph = view.getUint16(at);
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
  const glyphs = new Map<number, number>();
  const glyphId = (cp: number): number => {
    let id = glyphs.get(cp);
    if (id === undefined) {
      id = format12 >= 0 ? lookup12(cp) : lookup4(cp);
      glyphs.set(cp, id);
    }
    return id;
  };
  const advanceOfGlyph = (id: number) => view.getUint16(hmtx + Math.min(id, numberOfHMetrics - 1) * 4);
  const metrics: FontMetrics = { unitsPerEm, ascender, descender, glyphId, advance: (cp) => advanceOfGlyph(glyphId(cp)) };
  cache.set(data, metrics);
  return metrics;
}

/** Width of `text` at `fontSize` pixels, in pixels (sum of advances, no kerning). */
export function measureText(metrics: FontMetrics, text: string, fontSize: number): number {
  let units = 0;
  for (const ch of text) units += metrics.advance(ch.codePointAt(0)!);
  return (units * fontSize) / metrics.unitsPerEm;
}

/** The distinct characters of `text` the font has no glyph for (whitespace ignored). */
export function missingGlyphs(metrics: FontMetrics, text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) if (!/\s/u.test(ch) && metrics.glyphId(ch.codePointAt(0)!) === 0) missing.add(ch);
  return [...missing];
}
