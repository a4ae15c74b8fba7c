/**
 * Korean (and mixed Korean/English) ad text -> English prompt phrases, offline, from the product glossary
 * (`glossary.json`). No model: a longest-match glossary lookup that strips Korean particles (조사) and
 * verb/adjective endings (어미) only when what is left is a known stem, and a small chunker that turns Korean
 * modifier-before-noun order into English phrases ("X가 진열된 Y" -> "Y with X on display").
 * Runs in the browser and in Node (no platform imports).
 */
import glossary from './glossary.json';

/** What a particle does to the noun phrase before it. */
type Role = 'subj' | 'obj' | 'topic' | 'and' | 'gen' | 'loc' | 'with' | 'none';

type Item =
  | { t: 'n'; en: string; attr?: string; prep?: string; role: Role; latin?: boolean }
  | { t: 'mod'; en: string }
  | { t: 'loc'; en: string; role: Role }
  | { t: 'pred'; en: string; rel?: string; form: 'adn' | 'conn' }
  | { t: 'gap' };

interface NounEntry {
  en: string;
  attr?: string;
  prep?: string;
}

interface PredEntry {
  en: string;
  rel?: string;
  adv?: string;
}

type PredClass = 'ha' | 'doe' | 'hadoe' | 'plain' | 'b';

// ---------------------------------------------------------------- Hangul helpers

const isSyllable = (ch: string) => {
  const c = ch.charCodeAt(0);
  return c >= 0xac00 && c <= 0xd7a3;
};
/** Final consonant index (0 none, 4 ㄴ, 8 ㄹ, 17 ㅂ) of a Hangul syllable. */
const finalOf = (ch: string) => (ch.charCodeAt(0) - 0xac00) % 28;
const withFinal = (ch: string, final: number) => String.fromCharCode(ch.charCodeAt(0) - finalOf(ch) + final);
const FINAL_N = 4;
const FINAL_L = 8;

/** Hangul syllables or jamo. */
const HANGUL = /[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]/u;
/** Letters of scripts CLIP's vocabulary barely covers (Hangul, CJK, kana): never put into an English prompt. */
const NON_LATIN_LETTER = /[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff]/u;

// ---------------------------------------------------------------- particles

/** [particle, which noun endings take it (C: consonant, V: vowel, A: any), role]. */
const PARTICLES: readonly [string, 'C' | 'V' | 'A', Role][] = [
  ['이', 'C', 'subj'], ['가', 'V', 'subj'], ['은', 'C', 'topic'], ['는', 'V', 'topic'], ['을', 'C', 'obj'], ['를', 'V', 'obj'],
  ['과', 'C', 'and'], ['와', 'V', 'and'], ['이랑', 'C', 'and'], ['랑', 'V', 'and'], ['하고', 'A', 'and'], ['이나', 'C', 'and'], ['나', 'V', 'and'],
  ['의', 'A', 'gen'], ['에', 'A', 'loc'], ['에서', 'A', 'loc'], ['에게', 'A', 'loc'], ['한테', 'A', 'loc'], ['께', 'A', 'loc'],
  ['으로', 'C', 'with'], ['로', 'V', 'with'], ['도', 'A', 'topic'], ['만', 'A', 'topic'], ['까지', 'A', 'none'], ['부터', 'A', 'none'],
  ['처럼', 'A', 'none'], ['같이', 'A', 'none'], ['인', 'C', 'none'], ['이다', 'C', 'none'], ['입니다', 'C', 'none'], ['이에요', 'C', 'none'], ['예요', 'V', 'none'],
];
/** Particles that may follow another (에서+는, 으로+도, 과+의). */
const SECOND: readonly string[] = ['는', '은', '도', '의', '만'];

/**
 * The particle chain `rest` after a noun ending in `last` (a Hangul syllable, or undefined for a Latin word,
 * which takes any particle), with its role; undefined when `rest` is not one. An optional plural 들 may come first.
 */
function particleRole(rest: string, last: string | undefined): Role | undefined {
  if (rest.startsWith('들') && rest.length > 1) return particleRole(rest.slice(1), '들');
  const fits = (cls: 'C' | 'V' | 'A', particle: string) => {
    if (cls === 'A' || last === undefined || !isSyllable(last)) return true;
    const final = finalOf(last);
    if (particle === '로' && final === FINAL_L) return true;
    return cls === 'C' ? final !== 0 : final === 0;
  };
  for (const [p, cls, role] of PARTICLES) {
    if (rest === p && fits(cls, p)) return role;
    if (rest.startsWith(p) && fits(cls, p)) {
      const second = rest.slice(p.length);
      if (SECOND.includes(second) && p !== '의' && role !== 'subj' && role !== 'obj' && role !== 'topic') return second === '의' ? 'gen' : role;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- glossary tables

const NOUNS = new Map<string, NounEntry>();
for (const category of Object.values(glossary.nouns as Record<string, Record<string, string | NounEntry>>)) {
  for (const [ko, value] of Object.entries(category)) NOUNS.set(ko.normalize('NFC'), typeof value === 'string' ? { en: value } : value);
}
const MODIFIERS = new Map(Object.entries(glossary.modifiers as Record<string, string>).map(([k, v]) => [k.normalize('NFC'), v]));
const LOCATIVES = new Map(Object.entries(glossary.locatives as Record<string, string>).map(([k, v]) => [k.normalize('NFC'), v]));

/** Every surface form of every predicate -> its entry and form (adnominal, adverbial, connective). */
const PRED_FORMS = new Map<string, { entry: PredEntry; form: 'adn' | 'adv' | 'conn' }>();

/** The conjugated forms of a stem in its class (see `glossary.json` `about`). */
export function conjugate(stem: string, cls: PredClass): { surface: string; form: 'adn' | 'adv' | 'conn' }[] {
  const out: { surface: string; form: 'adn' | 'adv' | 'conn' }[] = [];
  const add = (form: 'adn' | 'adv' | 'conn', ...surfaces: string[]) => surfaces.forEach((surface) => out.push({ surface, form }));
  const body = stem.slice(0, -1);
  const last = stem.slice(-1);
  if (cls === 'ha' || cls === 'hadoe') {
    add('adn', `${stem}한`, `${stem}하는`, `${stem}하던`, `${stem}했던`);
    add('adv', `${stem}하게`, `${stem}히`);
    add('conn', `${stem}해`, `${stem}하고`, `${stem}하며`, `${stem}해서`, `${stem}하다`, `${stem}해요`, `${stem}합니다`);
  }
  if (cls === 'doe' || cls === 'hadoe') {
    add('adn', `${stem}된`, `${stem}되는`, `${stem}되던`, `${stem}됐던`, `${stem}되어진`);
    add('adv', `${stem}되게`);
    add('conn', `${stem}되어`, `${stem}돼`, `${stem}되고`, `${stem}되다`);
  }
  if (cls === 'plain' && isSyllable(last)) {
    const final = finalOf(last);
    if (final === 0) {
      add('adn', body + withFinal(last, FINAL_N), `${stem}는`, `${stem}던`, body + withFinal(last, FINAL_L));
      add('adv', `${stem}게`);
      add('conn', `${stem}고`, `${stem}며`, `${stem}다`);
    } else if (final === FINAL_L) {
      const open = body + withFinal(last, 0);
      add('adn', `${open}는`, body + withFinal(last, FINAL_N), `${stem}던`);
      add('adv', `${stem}게`);
      add('conn', `${stem}고`, `${stem}어`, `${stem}며`, `${stem}다`);
    } else {
      add('adn', `${stem}은`, `${stem}는`, `${stem}던`, `${stem}을`);
      add('adv', `${stem}게`);
      add('conn', `${stem}고`, `${stem}어`, `${stem}아`, `${stem}으며`, `${stem}다`);
    }
  }
  if (cls === 'b' && isSyllable(last)) {
    const open = body + withFinal(last, 0);
    add('adn', `${open}운`, `${stem}는`, `${stem}던`, `${open}울`);
    add('adv', `${stem}게`);
    add('conn', `${stem}고`, `${open}워`, `${stem}다`);
  }
  return out;
}

for (const [stem, value] of Object.entries(glossary.predicates as Record<string, (string | null)[]>)) {
  const [cls, en, rel, adv] = value as [PredClass, string, string | null | undefined, string | undefined];
  const entry: PredEntry = { en, ...(rel ? { rel } : {}), ...(adv ? { adv } : {}) };
  for (const { surface, form } of conjugate(stem.normalize('NFC'), cls)) {
    if (!PRED_FORMS.has(surface)) PRED_FORMS.set(surface, { entry, form });
  }
}

/** Every English string the glossary can put into a prompt (for token counting and its tests). */
export function glossaryEnglish(): string[] {
  const out = new Set<string>();
  for (const n of NOUNS.values()) [n.en, n.attr, n.prep].forEach((s) => s && out.add(s));
  for (const v of MODIFIERS.values()) out.add(v);
  for (const v of LOCATIVES.values()) out.add(v);
  for (const { entry } of PRED_FORMS.values()) [entry.en, entry.adv, entry.rel?.replace(/\{(head|args)\}/g, '')].forEach((s) => s?.trim() && out.add(s.trim()));
  return [...out];
}

/** Every Korean key of the glossary (nouns, modifiers, locatives, predicate stems). */
export function glossaryKeys(): string[] {
  return [...NOUNS.keys(), ...MODIFIERS.keys(), ...LOCATIVES.keys(), ...Object.keys(glossary.predicates)];
}

const MAX_PHRASE_WORDS = Math.max(...[...NOUNS.keys(), ...MODIFIERS.keys()].map((k) => k.split(' ').length));

// ---------------------------------------------------------------- word analysis

/** A noun (or locative) followed by particles, or a compound of known nouns of two or more syllables each. */
function nounParse(word: string, inCompound: boolean): Item[] | undefined {
  for (let j = word.length; j >= 1; j--) {
    const head = word.slice(0, j);
    const rest = word.slice(j);
    if (inCompound && j < 2) break;
    const noun = NOUNS.get(head);
    const loc = LOCATIVES.get(head);
    if (!noun && !loc) continue;
    const item = (role: Role): Item => (noun ? { t: 'n', en: noun.en, ...(noun.attr ? { attr: noun.attr } : {}), ...(noun.prep ? { prep: noun.prep } : {}), role } : { t: 'loc', en: loc!, role });
    if (rest === '') return [item('none')];
    const role = particleRole(rest, head.slice(-1));
    if (role) return [item(role)];
    if (j >= 2 && noun) {
      const tail = nounParse(rest, true);
      if (tail) return [item('none'), ...tail];
    }
  }
  return undefined;
}

/** One whitespace-separated word (어절) -> items, or undefined when it is not known. */
function analyseWord(word: string): Item[] | undefined {
  if (!NON_LATIN_LETTER.test(word)) return [{ t: 'n', en: word, role: 'none', latin: true }];
  const pred = PRED_FORMS.get(word);
  if (pred) return [predItem(pred.entry, pred.form)];
  const mod = MODIFIERS.get(word);
  if (mod) return [{ t: 'mod', en: mod }];
  const noun = nounParse(word, false);
  if (noun) return noun;
  // a Latin word with a Korean particle: "latte를", "cafe에서"
  const mixed = /^([^\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]+)([\uac00-\ud7a3]+)$/u.exec(word);
  if (mixed && !NON_LATIN_LETTER.test(mixed[1]!)) {
    const role = particleRole(mixed[2]!, undefined);
    if (role) return [{ t: 'n', en: mixed[1]!, role, latin: true }];
  }
  return undefined;
}

function predItem(entry: PredEntry, form: 'adn' | 'adv' | 'conn'): Item {
  if (form === 'adv') return { t: 'mod', en: entry.adv ?? entry.en };
  return { t: 'pred', en: entry.en, ...(entry.rel ? { rel: entry.rel } : {}), form };
}

/**
 * A multi-word glossary key starting at `words[i]` (longest first): the last word may carry particles
 * (nouns) or be a fixed modifier phrase. Returns the items and how many words it took.
 */
function matchPhrase(words: readonly string[], i: number): { items: Item[]; used: number } | undefined {
  for (let k = Math.min(MAX_PHRASE_WORDS, words.length - i); k >= 2; k--) {
    const prefix = words.slice(i, i + k - 1).join(' ');
    const last = words[i + k - 1]!;
    for (let j = last.length; j >= 1; j--) {
      const key = `${prefix} ${last.slice(0, j)}`;
      const rest = last.slice(j);
      const mod = MODIFIERS.get(key);
      if (mod && rest === '') return { items: [{ t: 'mod', en: mod }], used: k };
      const noun = NOUNS.get(key);
      if (noun) {
        const role = rest === '' ? 'none' : particleRole(rest, key.slice(-1));
        if (role) return { items: [{ t: 'n', en: noun.en, ...(noun.attr ? { attr: noun.attr } : {}), ...(noun.prep ? { prep: noun.prep } : {}), role }], used: k };
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------- phrase building

interface Arg {
  role: Role;
  text: string;
}

/** English for one clause's items: noun phrases, relative clauses, places. */
function renderClause(items: readonly Item[]): string {
  const out: string[] = [];
  let args: Arg[] = [];
  let group: string[] = [];
  let mods: string[] = [];
  let nouns: { en: string; attr?: string }[] = [];
  let prepOfLast: string | undefined;
  let pending: { pred: Extract<Item, { t: 'pred' }>; args: Arg[] } | undefined;

  const npText = () => {
    const words = nouns.map((n, i) => (i < nouns.length - 1 && n.attr ? n.attr : n.en));
    return [...mods, ...words].filter(Boolean).join(' ');
  };
  const applyRel = (head: string): string => {
    if (!pending) return head;
    const { pred, args: relArgs } = pending;
    pending = undefined;
    const core = relArgs.filter((a) => a.role !== 'loc' && a.role !== 'with').map((a) => a.text);
    const places = relArgs.filter((a) => a.role === 'loc' || a.role === 'with').map((a) => a.text);
    let text: string;
    if (pred.rel && head && core.length) text = pred.rel.replace('{head}', head).replace('{args}', core.join(' and ')).replace(/\s+/g, ' ');
    else text = [head, pred.en, ...core].filter(Boolean).join(' ');
    return [text, ...places].join(' ').replace(/ (with|of|at|on|in) ?$/u, '').trim();
  };
  /** Ends the noun phrase (and its coordination group); returns its text, with a pending relative applied. */
  const closeNp = (): string => {
    const own = npText();
    if (own) group.push(own);
    const text = group.join(' and ');
    group = [];
    mods = [];
    nouns = [];
    return text;
  };
  const prepFor = (role: Role, prep?: string) => (role === 'with' ? 'with' : prep ?? 'in');

  for (const item of items) {
    if (item.t === 'gap') continue;
    if (item.t === 'mod') {
      mods.push(item.en);
      continue;
    }
    if (item.t === 'n') {
      nouns.push({ en: item.en, ...(item.attr ? { attr: item.attr } : {}) });
      prepOfLast = item.prep;
      if (item.role === 'none' || item.role === 'gen') continue;
      if (item.role === 'and') {
        const own = npText();
        if (own) group.push(own);
        mods = [];
        nouns = [];
        continue;
      }
      const text = applyRel(closeNp());
      if (item.role === 'loc' || item.role === 'with') args.push({ role: item.role, text: `${prepFor(item.role, prepOfLast)} ${text}` });
      else args.push({ role: item.role, text });
      continue;
    }
    if (item.t === 'loc') {
      // 테이블 위에 -> "on table"; the place is the open noun phrase, else the last argument
      let place = applyRel(closeNp());
      if (!place && args.length) place = args.pop()!.text;
      args.push({ role: 'loc', text: `${item.en} ${place}`.trim() });
      continue;
    }
    // a predicate: with arguments it becomes a relative clause on the next noun phrase
    if (nouns.length || group.length) args.push({ role: 'subj', text: applyRel(closeNp()) });
    if (args.length === 0 || !item.rel) {
      if (args.length) out.push(...args.map((a) => a.text));
      args = [];
      if (item.en) mods.push(item.en);
      continue;
    }
    if (pending) out.push(applyRel(''));
    pending = { pred: item, args };
    args = [];
  }
  const last = closeNp();
  const head = pending ? applyRel(last) : last;
  const places = args.filter((a) => a.role === 'loc' || a.role === 'with').map((a) => a.text);
  const others = args.filter((a) => a.role !== 'loc' && a.role !== 'with').map((a) => a.text);
  if (head) out.push([head, ...places].join(' '));
  else out.push(...places);
  return [...others, ...out].filter(Boolean).join(', ');
}

// ---------------------------------------------------------------- public

/** The English of one text and the Korean words it could not translate. */
export interface Translation {
  /** Comma-separated English phrases, in the order of the input's clauses. */
  english: string;
  /** Words (as typed) with Korean or other non-Latin letters that the glossary does not know. */
  untranslated: string[];
}

/** Clause breaks: commas, sentence ends, new lines. */
const CLAUSE_SPLIT = /[,，、;；\n]+|[.。!?！？](?=\s|$)/u;
/** Punctuation stripped around a Korean word ("(카페)" -> 카페). */
const EDGE_PUNCT = /^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu;

/**
 * Translates Korean, English or mixed ad text into English prompt phrases with the glossary.
 * English (Latin) words pass through as typed; Korean words are matched longest first after stripping
 * particles and endings against known stems only; unknown Korean words are listed in `untranslated` and left
 * out of `english` (CLIP would see byte fragments).
 * @param text the owner's text (already cleared of lettering requests by the no-text guard).
 * @returns the English and the untranslated words; never throws.
 */
export function translate(text: string): Translation {
  const untranslated: string[] = [];
  const clauses: string[] = [];
  for (const clause of text.normalize('NFC').split(CLAUSE_SPLIT)) {
    const words = clause
      .split(/\s+/u)
      .map((w) => (NON_LATIN_LETTER.test(w) ? w.replace(EDGE_PUNCT, '') : w))
      .filter(Boolean);
    const items: Item[] = [];
    for (let i = 0; i < words.length; ) {
      const phrase = matchPhrase(words, i);
      if (phrase) {
        items.push(...phrase.items);
        i += phrase.used;
        continue;
      }
      const word = words[i]!;
      if (word === '및' || word === '그리고' || word === '또는') {
        const prev = items.at(-1);
        if (prev?.t === 'n' && prev.role === 'none') prev.role = 'and';
      } else {
        const analysed = analyseWord(word);
        if (analysed) items.push(...analysed);
        else {
          untranslated.push(word);
          items.push({ t: 'gap' });
        }
      }
      i++;
    }
    const english = renderClause(items);
    if (english) clauses.push(english);
  }
  return { english: clauses.join(', ').replace(/\s+/g, ' ').trim(), untranslated };
}

/** True when `text` has Hangul (used by callers to tell Korean input from English). */
export const hasHangul = (text: string): boolean => HANGUL.test(text);
