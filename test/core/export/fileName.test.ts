import { describe, expect, it } from 'vitest';
import { exportFileName, FILE_NAME_SHOP_MAX } from '../../../src/core/export/index.ts';

describe('exportFileName', () => {
  it('keeps a Korean shop name and names the size and format', () => {
    expect(exportFileName('빵굽는집', '1080x1350', 'jpeg')).toBe('빵굽는집-1080x1350.jpg');
    expect(exportFileName('빵굽는집', '1200x628', 'webp')).toBe('빵굽는집-1200x628.webp');
    expect(exportFileName('Café 봄날', '1080x1080', 'png')).toBe('Café-봄날-1080x1080.png');
  });

  it('appends the local date when given', () => {
    expect(exportFileName('빵굽는집', '1080x1920', 'jpeg', new Date(2025, 2, 4, 23, 59))).toBe('빵굽는집-1080x1920-20250304.jpg');
    expect(exportFileName('빵굽는집', '1080x1920', 'jpeg', new Date(Number.NaN))).toBe('빵굽는집-1080x1920.jpg');
  });

  it('writes the actual size for original when given, else "original"', () => {
    expect(exportFileName('꽃집', { width: 832, height: 1216 }, 'png')).toBe('꽃집-832x1216.png');
    expect(exportFileName('꽃집', 'original', 'png')).toBe('꽃집-original.png');
  });

  it('composes decomposed Hangul (as macOS hands it out) to NFC', () => {
    const name = exportFileName('빵굽는집'.normalize('NFD'), '1080x1080', 'png');
    expect(name).toBe('빵굽는집-1080x1080.png');
    expect(name === name.normalize('NFC')).toBe(true);
  });

  it('drops characters file systems reject and invisible controls', () => {
    expect(exportFileName('카페/라떼: "최고"?*<>|\\', '1080x1080', 'png')).toBe('카페-라떼-최고-1080x1080.png');
    expect(exportFileName('\u202e꽃\u200b집\u0000\n', '1080x1080', 'png')).toBe('꽃-집-1080x1080.png');
    expect(exportFileName('..숨김..', '1080x1080', 'png')).toBe('숨김-1080x1080.png');
    expect(exportFileName('  미용실   하나  ', '1080x1080', 'png')).toBe('미용실-하나-1080x1080.png');
  });

  it('falls back to "ad" without a usable name', () => {
    for (const name of [undefined, '', '   ', '///', '...']) expect(exportFileName(name, '1080x1350', 'jpeg')).toBe('ad-1080x1350.jpg');
  });

  it('cuts a long name by whole characters, emoji sequences included, and stays under 255 bytes', () => {
    const long = '아주긴이름의동네빵집'.repeat(10);
    const name = exportFileName(long, '1080x1350', 'webp', new Date(2025, 0, 1));
    expect(name).toBe(`${long.slice(0, FILE_NAME_SHOP_MAX)}-1080x1350-20250101.webp`);
    expect(new TextEncoder().encode(name).length).toBeLessThan(255);
    const family = '👨‍👩‍👧'; // one grapheme, five code points
    const emoji = exportFileName(`${'가'.repeat(FILE_NAME_SHOP_MAX - 1)}${family}${family}`, '1080x1080', 'png');
    expect(emoji).toBe(`${'가'.repeat(FILE_NAME_SHOP_MAX - 1)}${family}-1080x1080.png`);
  });
});
