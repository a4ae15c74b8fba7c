/** The text stays readable over any picture: WCAG contrast of the text against the scrimmed pixels behind it. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../src/core/image/rgba.ts';
import {
  DARK_TEXT,
  LIGHT_TEXT,
  applyScrim,
  contrastRatio,
  layoutAdCopy,
  relativeLuminance,
  worstContrast,
  type OverlayFonts,
} from '../../../src/core/overlay/index.ts';
import { KOREAN, SIZES, gradient, loadOverlayFonts, noise, solid } from './helpers.ts';

let fonts: OverlayFonts;
beforeAll(async () => {
  fonts = await loadOverlayFonts();
});

/** Stripes of black and white every 3 pixels: the worst case for a single scrim alpha. */
function stripes(width: number, height: number): RgbaImage {
  const image = solid(width, height, 0);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if ((x + y) % 6 < 3) image.data.fill(255, (y * width + x) * 4, (y * width + x) * 4 + 3);
  return image;
}

describe('contrast over any picture', () => {
  it('WCAG figures', () => {
    expect(contrastRatio(relativeLuminance([255, 255, 255]), relativeLuminance([0, 0, 0]))).toBeCloseTo(21, 6);
    expect(contrastRatio(relativeLuminance([255, 255, 255]), relativeLuminance([119, 119, 119]))).toBeCloseTo(4.48, 2);
  });

  const pictures: [string, (w: number, h: number) => RgbaImage][] = [
    ['white', (w, h) => solid(w, h, 255)],
    ['black', (w, h) => solid(w, h, 0)],
    ['mid-grey', (w, h) => solid(w, h, 128)],
    ['grey 119', (w, h) => solid(w, h, 119)],
    ['noise', (w, h) => noise(w, h, 7)],
    ['stripes', stripes],
    ['gradient', gradient],
  ];

  it('holds the headline at 4.5:1 or more against every pixel behind it, on every ratio and template', () => {
    const report: string[] = [];
    for (const [name, make] of pictures) {
      for (const [ratio, width, height] of SIZES) {
        const image = make(width, height);
        for (const template of ['bottom', 'top', 'center'] as const) {
          const layout = layoutAdCopy({ ...KOREAN, template }, image, fonts);
          const scrimmed = layout.scrim ? applyScrim(image, layout.scrim) : image;
          for (const block of layout.blocks.filter((b) => b.field === 'headline' || b.field === 'shop_name' || b.field === 'subline')) {
            for (const line of block.lineRects) {
              const worst = worstContrast(scrimmed, line, layout.textColor, [0, 0, 0], 0);
              expect(worst, `${name} ${ratio} ${template} ${block.field}`).toBeGreaterThanOrEqual(4.5);
            }
          }
          if (template === 'bottom' && ratio === '1:1') report.push(`${name}: ${layout.textColor === LIGHT_TEXT ? 'light' : 'dark'} text, scrim alpha ${layout.scrimAlpha}`);
        }
      }
    }
    console.log(report.join('\n'));
  });

  it('uses no scrim where the picture is enough, and the lighter choice otherwise', () => {
    const at = (image: RgbaImage) => layoutAdCopy(KOREAN, image, fonts);
    expect(at(solid(512, 512, 0))).toMatchObject({ textColor: LIGHT_TEXT, scrimAlpha: 0, scrim: null });
    expect(at(solid(512, 512, 255))).toMatchObject({ textColor: DARK_TEXT, scrimAlpha: 0, scrim: null });
    expect(at(solid(512, 512, 128))).toMatchObject({ textColor: DARK_TEXT, scrimAlpha: 0 }); // #111 on grey 128 is 4.8:1
    const busy = at(noise(512, 512));
    expect(busy.scrimAlpha).toBeGreaterThan(100);
    // the scrim is a gradient: full over the text, fading out above it, nothing at the top of a bottom layout
    const alpha = busy.scrim!.alpha;
    expect(alpha[0]).toBe(0);
    expect(alpha[511]).toBe(busy.scrimAlpha);
    const headline = busy.blocks.find((b) => b.field === 'headline')!;
    expect(alpha[Math.floor(headline.rect.y)]).toBe(busy.scrimAlpha);
  });
});
