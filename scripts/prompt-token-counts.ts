/**
 * Writes src/core/prompt/token-counts.json: the real CLIP token count of every word the prompt builder can
 * emit (glossary English, style tags and negatives, industry fragments, the ad cases' English prompts, and a
 * list of common English ad words), measured with openai/CLIP's merges from ../shared/reference/clip (read
 * there, never copied). Run after editing the prompt data: `npx tsx scripts/prompt-token-counts.ts`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { clipVocabFromMerges } from '../src/core/tokenizers/byteLevel.ts';
import { ClipTokenizer } from '../src/core/tokenizers/clipTokenizer.ts';
import { glossaryEnglish } from '../src/core/prompt/korean.ts';
import { clipPieces } from '../src/core/prompt/tokens.ts';
import styles from '../src/core/prompt/styles.json' with { type: 'json' };
import industries from '../src/core/prompt/industries.json' with { type: 'json' };
import { AD_CASES, DEFAULTS } from '../src/core/product/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const MERGES = resolve(ROOT, '../shared/reference/clip/bpe_simple_vocab_16e6.txt.gz');

/** Common English words owners type in ad prompts (counted so English input is not over-estimated). */
const COMMON = `a an the and or of in on at with for from to by under over near behind inside outside next into onto
is are be this that these those it its my our your their very really more most some many few one two three four five
photo picture image shot view scene illustration poster banner ad advertisement commercial product products
shop store cafe coffee bakery bread croissant croissants pastry pastries cake cakes cookie cookies dessert desserts tea
latte art cup mug table chair chairs counter shelf shelves window door wall floor interior exterior storefront street
flower flowers bouquet bouquets rose roses florist barista baker chef woman man girl boy people person customer customers
owner hair salon nail nails beauty cosmetics clothes dress bag shoes food dish dishes restaurant menu plate bowl drink
drinks juice ice cream fruit strawberry strawberries lemon apple fresh freshly baked warm cozy modern stylish elegant
bright soft natural light lighting lamp lamps sunlight morning evening night sunset golden hour spring summer autumn
fall winter snow christmas holiday season new sale korean traditional vintage minimalist luxury premium professional
small large big little beautiful pretty cute clean simple colorful white black red green blue yellow pink brown gray
wooden wood glass marble gold silver close up closeup top down macro wide angle depth field bokeh background blurred
smiling holding making pouring arranging displayed full sitting standing cheerful happy independent bookstore books
detailed realistic photorealistic cinematic style anime character`.split(/\s+/);

function realClip(): ClipTokenizer {
  const text = gunzipSync(readFileSync(MERGES)).toString('utf8');
  const merges = text.split('\n').slice(1, 49152 - 256 - 2 + 1);
  return new ClipTokenizer(clipVocabFromMerges(merges), merges, { padToken: '<|endoftext|>', maxLength: 77 });
}

/** Every text whose pieces get a measured count. */
export function promptDataTexts(): string[] {
  const texts = [...glossaryEnglish(), ...COMMON, DEFAULTS.negative_prompt, ...AD_CASES.map((c) => c.prompt)];
  for (const style of Object.values(styles.styles)) texts.push(style.negative_prompt, ...style.prefix.map((t) => t.text), ...style.suffix.map((t) => t.text));
  for (const industry of Object.values(industries.industries)) texts.push(...industry.fragments);
  return texts;
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('prompt-token-counts.ts')) {
  if (!existsSync(MERGES)) {
    console.error(`no CLIP merges at ${MERGES}`);
    process.exit(1);
  }
  const clip = realClip();
  const counts: Record<string, number> = {};
  for (const text of promptDataTexts()) for (const piece of clipPieces(text)) counts[piece] ??= clip.encode(piece).tokenCount;
  const sorted = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const out = {
    about: 'CLIP BPE token counts (openai/CLIP merges, without BOS/EOS) of every piece, split by CLIP\'s pattern, of the English the prompt builder emits; written by scripts/prompt-token-counts.ts and checked by test/core/prompt.tokens.test.ts. Pieces not listed count their UTF-8 bytes.',
    counts: sorted,
  };
  const body = Object.entries(out.counts).map(([k, v]) => `  ${JSON.stringify(k)}: ${v}`).join(',\n');
  writeFileSync(join(ROOT, 'src/core/prompt/token-counts.json'), `{\n"about": ${JSON.stringify(out.about)},\n"counts": {\n${body}\n}\n}\n`);
  console.log(`${Object.keys(sorted).length} pieces`);
}
