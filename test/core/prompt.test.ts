import { describe, expect, it } from 'vitest';
import { AD_CASES } from '../../src/core/product/index.ts';
import { EngineError } from '../../src/core/errors.ts';
import { buildPrompt, INDUSTRIES, INDUSTRY_PRESETS, removeLettering, STYLE_PRESETS, STYLES, translate } from '../../src/core/prompt/index.ts';
import { conjugate, glossaryKeys } from '../../src/core/prompt/korean.ts';
import { SAMPLER_NAMES } from '../../src/core/schedulers/index.ts';

/** Key English nouns of each case's `prompt` that its Korean must translate to. */
const KEY_NOUNS: Record<string, string[]> = {
  bakery: ['bakery', 'interior', 'croissants', 'bread'],
  barista: ['barista', 'latte art', 'natural light'],
  hair_salon: ['hair salon', 'interior', 'mirrors', 'chairs'],
  flower_shop: ['flower shop', 'storefront', 'bouquets'],
  flower_shop_owner: ['florist', 'bouquet', 'counter', 'flower shop'],
  bookstore: ['bookstore', 'shelves', 'wooden', 'cozy'],
  cafe_anime: ['cafe', 'coffee cup', 'table', 'anime'],
  barista_anime: ['barista', 'character', 'illustration', 'anime'],
  baker_anime: ['baker', 'tray', 'bread', 'anime'],
};

describe('the 9 ad cases', () => {
  it('has key nouns for every case', () => expect(AD_CASES.map((c) => c.id).sort()).toEqual(Object.keys(KEY_NOUNS).sort()));
  for (const c of AD_CASES) {
    for (const style of STYLES) {
      it(`${c.id} (ko) in ${style}: no untranslated words, key nouns present, no Hangul`, () => {
        const built = buildPrompt({ text: c.prompt_ko, style });
        expect(built.untranslated).toEqual([]);
        for (const noun of KEY_NOUNS[c.id]!) expect(built.prompt, noun).toContain(noun);
        expect(built.prompt).not.toMatch(/[\uac00-\ud7a3]/u);
        expect(built.over_limit).toBe(false);
        expect(built.dropped).toEqual([]);
      });
      it(`${c.id} (en) in ${style}: English passes through as typed`, () => {
        const built = buildPrompt({ text: c.prompt, style });
        expect(built.prompt).toContain(c.prompt);
        expect(built.untranslated).toEqual([]);
      });
    }
  }
  it('reads as English phrases, modifiers before nouns', () => {
    expect(translate('갓 구운 크루아상과 빵이 진열된 전문 베이커리 내부').english).toBe('professional bakery interior with freshly baked croissants and bread on display');
    expect(translate('모던한 카페에서 라테 아트를 만드는 바리스타, 자연광').english).toBe('barista making latte art in modern cafe, natural light');
    expect(translate('거울과 의자가 있는 세련된 미용실 내부').english).toBe('stylish hair salon interior with mirrors and chairs');
    expect(translate('테이블 위에 커피잔이 있는 아늑한 카페, 애니메이션 스타일').english).toBe('cozy cafe with coffee cup on table, anime style');
    expect(translate('밝게 웃는 바리스타 캐릭터 일러스트').english).toBe('brightly smiling barista character illustration');
  });
});

describe('particles and endings', () => {
  it.each([
    ['크루아상과', 'croissants'], ['빵이', 'bread'], ['꽃집에서', 'at flower shop'], ['테이블 위에', 'on table'], ['카페의 분위기', 'cafe atmosphere'],
    ['미용실을', 'hair salon'], ['꽃다발로', 'with bouquets'], ['바리스타는', 'barista'], ['커피도', 'coffee'], ['베이커리에서는', 'in bakery'],
    ['케이크랑 쿠키', 'cake and cookies'], ['떡볶이와 김밥', 'tteokbokki spicy rice cakes and gimbap rice rolls'], ['꽃들이', 'flowers'],
    ['진열된 빵', 'displayed bread'], ['아늑한 카페', 'cozy cafe'], ['작은 꽃집', 'small flower shop'], ['귀여운 고양이', 'cute cat'], ['따뜻하게 빛나는 조명', 'warmly shining lighting'],
    ['예쁜 꽃', 'pretty flowers'], ['큰 창문', 'large window'], ['낭만적인 레스토랑', 'romantic restaurant'], ['나무 의자', 'wooden chairs'], ['나무', 'tree'],
    ['빵을 굽는 제빵사', 'baker baking bread'], ['쟁반을 든 점원', 'clerk holding tray'], ['장미가 가득한 꽃집', 'flower shop full of roses'],
  ])('%s -> %s', (ko, en) => {
    const { english, untranslated } = translate(ko);
    expect(untranslated).toEqual([]);
    expect(english).toBe(en);
  });

  it('conjugates irregular stems: ㄹ drop (만드는, 만든, 든), ㅂ (구운, 귀여운), open syllables (큰, 예쁜)', () => {
    expect(conjugate('만들', 'plain').map((f) => f.surface)).toEqual(expect.arrayContaining(['만드는', '만든', '만들고']));
    expect(conjugate('들', 'plain').map((f) => f.surface)).toContain('든');
    expect(conjugate('굽', 'b').map((f) => f.surface)).toEqual(expect.arrayContaining(['구운', '굽는']));
    expect(conjugate('크', 'plain').map((f) => f.surface)).toContain('큰');
    expect(conjugate('아늑', 'ha').map((f) => f.surface)).toEqual(expect.arrayContaining(['아늑한', '아늑하게']));
    expect(conjugate('세련', 'doe').map((f) => f.surface)).toContain('세련된');
  });

  it('does not turn unknown words into wrong matches (stems must be known, particles must fit the stem)', () => {
    // 차이 is not 차(tea)+이 (이 follows consonants), 작가 is not 작(small)+가, 사과나무들의 is fine as a compound
    expect(translate('차이가').untranslated).toEqual(['차이가']);
    expect(translate('작가의 책').untranslated).toEqual(['작가의']);
    expect(translate('작가의 책').english).toBe('books');
    expect(translate('빵빵한').untranslated).toEqual(['빵빵한']);
    expect(translate('카페라는').untranslated).toEqual(['카페라는']);
  });

  it('has a few hundred glossary entries covering the required domains', () => {
    const keys = new Set(glossaryKeys());
    expect(keys.size).toBeGreaterThan(600);
    for (const k of ['떡볶이', '비빔밥', '김밥', '빙수', '떡', '붕어빵', '설날', '추석', '크리스마스', '봄', '아늑', '세련', '따뜻', '클로즈업', '위에서 본', '얕은 심도', '바리스타', '제빵사', '플로리스트', '진열', '만들', '들', '가득', '갓 구운', '라테 아트', '자연광']) expect(keys.has(k), k).toBe(true);
  });
});

describe('mixed text and untranslated words', () => {
  it('keeps English words as typed and translates the Korean around them', () => {
    const built = buildPrompt({ text: 'cozy 카페에서 latte art를 만드는 barista, Golden Hour', style: 'ultra_realistic' });
    expect(built.prompt).toContain('barista making latte art in cozy cafe, Golden Hour');
    expect(built.untranslated).toEqual([]);
  });
  it('lists unknown Korean words and leaves them out of the prompt', () => {
    const built = buildPrompt({ text: '뽀송뽀송한 크루아상과 쫀득쫀득 떡', style: 'anime' });
    expect(built.untranslated).toEqual(['뽀송뽀송한', '쫀득쫀득']);
    expect(built.prompt).toContain('croissants and rice cakes');
    expect(built.prompt).not.toMatch(/[\uac00-\ud7a3]/u);
  });
  it('reports Japanese or Chinese words too, never put into the prompt', () => {
    const built = buildPrompt({ text: 'ケーキ 蛋糕 cake', style: 'anime' });
    expect(built.untranslated).toEqual(['ケーキ', '蛋糕']);
    expect(built.prompt.startsWith('cake')).toBe(true);
  });
});

describe('no-text guard', () => {
  it.each([
    ['"50% 할인" 글씨가 있는 카페 포스터', ['"50% 할인" 글씨가'], 'cafe poster'],
    ['cozy cafe with the words SALE, warm light', ['with the words SALE'], 'cozy cafe, warm light'],
    ['간판 글씨가 보이는 빵집', ['간판 글씨가'], 'bakery'],
    ['오픈이라고 적힌 간판이 있는 꽃집', ['오픈이라고 적힌'], 'flower shop with signboard'],
    ["bakery with 'OPEN' sign", ["'OPEN'"], 'bakery with sign'],
    ['“신메뉴” 문구와 딸기 케이크', ['“신메뉴” 문구와'], 'strawberry cake'],
    ['a poster that says Grand Opening, red roses', ['that says Grand Opening'], 'a poster, red roses'],
    ['빵집 로고', ['로고'], 'bakery'],
  ])('%s', (text, removed, english) => {
    const built = buildPrompt({ text, style: 'ultra_realistic', industry: 'other' });
    expect(built.removed_text).toEqual(removed);
    expect(built.untranslated).toEqual([]);
    expect(built.prompt).toContain(english);
    for (const r of removed) for (const word of r.replace(/["“”']/g, '').split(/\s+/)) if (/^[A-Z%0-9]/.test(word)) expect(built.prompt).not.toContain(word);
  });
  it("leaves apostrophes and ordinary words alone (baby's breath, textured wall)", () => {
    expect(removeLettering("baby's breath bouquet, textured wall")).toEqual({ text: "baby's breath bouquet, textured wall", removed_text: [] });
  });
  it('every style negative prompt names text, letters, watermark and logo', () => {
    for (const style of STYLES) for (const term of ['text', 'letters', 'watermark', 'logo']) expect(STYLE_PRESETS[style].negative_prompt.split(/[,()[\]]\s*/).map((s) => s.trim())).toContain(term);
  });
});

describe('styles and industries', () => {
  it('anime negative says neither anime nor cartoon; the photographic one does', () => {
    expect(STYLE_PRESETS.anime.negative_prompt).not.toMatch(/anime|cartoon/i);
    expect(STYLE_PRESETS.semi_realistic.negative_prompt).not.toMatch(/anime|cartoon/i);
    expect(STYLE_PRESETS.ultra_realistic.negative_prompt).toMatch(/cartoon/);
  });
  it('Animagine XL 3.1 gets its quality tags after the subject and its own negative prompt', () => {
    const built = buildPrompt({ text: 'cozy cafe', style: 'anime' });
    expect(built.prompt.endsWith('masterpiece, best quality, very aesthetic, absurdres')).toBe(true);
    expect(built.negative_prompt.startsWith('nsfw, lowres, (bad), text, error, fewer, extra, missing, worst quality, jpeg artifacts, low quality, watermark, unfinished, displeasing, oldest, early, chromatic aberration, signature, extra digits, artistic error, username, scan, [abstract]')).toBe(true);
  });
  it('RealVisXL gets photographic terms', () => {
    expect(buildPrompt({ text: 'cozy cafe', style: 'ultra_realistic' }).prompt).toMatch(/^RAW photo, .*photorealistic/);
  });
  it('every style has sampler defaults from SAMPLER_NAMES and the right checkpoint', () => {
    for (const style of STYLES) {
      const p = STYLE_PRESETS[style];
      expect(SAMPLER_NAMES).toContain(p.scheduler);
      expect(p.num_inference_steps).toBeGreaterThanOrEqual(20);
      expect(p.guidance_scale).toBeGreaterThan(1);
    }
    expect(STYLE_PRESETS.anime.checkpoint).toBe('cagliostrolab/animagine-xl-3.1');
    expect(STYLE_PRESETS.ultra_realistic.checkpoint).toBe('SG161222/RealVisXL_V4.0');
  });
  it('industries are the product list, each with fragments that land in the prompt', () => {
    expect(INDUSTRIES).toEqual(['cafe', 'bakery', 'restaurant', 'flower_shop', 'hair_nail_salon', 'retail', 'service', 'other']);
    for (const industry of INDUSTRIES) {
      expect(INDUSTRY_PRESETS[industry].fragments.length).toBeGreaterThan(0);
      const built = buildPrompt({ text: '케이크', style: 'semi_realistic', industry });
      expect(built.industry).toBe(industry);
      for (const f of INDUSTRY_PRESETS[industry].fragments) expect(built.prompt).toContain(f);
    }
    expect(buildPrompt({ text: 'cake', style: 'anime' }).industry).toBe('other');
  });
  it('does not repeat a fragment the owner already wrote', () => {
    const built = buildPrompt({ text: 'artisan bakery with croissants', style: 'anime', industry: 'bakery' });
    expect(built.prompt.match(/artisan bakery/g)).toHaveLength(1);
  });
});

describe('bad input', () => {
  const codeAndField = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(EngineError);
      const e = error as EngineError;
      return [e.code, e.issues?.[0]?.field, e.message];
    }
    throw new Error('did not throw');
  };
  it.each([
    [{ text: '', style: 'anime' }, 'text'],
    [{ text: '   ', style: 'anime' }, 'text'],
    [{ text: 'cafe', style: 'oil_painting' }, 'style'],
    [{ text: 'cafe', style: 'anime', industry: 'bank' }, 'industry'],
  ])('%j -> invalid_request on %s', (input, field) => {
    const [code, f, message] = codeAndField(() => buildPrompt(input as never));
    expect(code).toBe('invalid_request');
    expect(f).toBe(field);
    expect(message).toMatch(new RegExp(`^${field}: `));
  });
});
