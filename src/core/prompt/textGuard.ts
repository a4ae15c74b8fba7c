/**
 * The no-text guard: ad copy is laid over the image later, so the image itself must carry no letters.
 * Requests for lettering (quoted words, "with the words SALE", '"50% 할인" 글씨', 간판 글씨, "오픈이라고 적힌")
 * are cut out of the text before translation and reported, rather than asking SDXL to draw letters.
 */

/** Korean nouns that ask for lettering, with an optional particle. */
const KO_LETTERING = /^(?:글씨|글자|문구|텍스트|레터링|로고|타이포|타이포그래피|자막|카피|슬로건|워터마크|문자)(?:가|를|는|와|로|이|을|은|과|으로|도|의)?$/u;
/** Korean "...라고 적힌/쓰인" (written as ...). */
const KO_WRITTEN = /(\S+?)(?:이?라고|이?란|이?라는)\s+(?:적힌|쓰인|써진|쓰여진|새겨진|써 있는|적혀 있는|쓰여 있는|(?:글씨|글자|문구)\S*)/gu;
/** Quoted text: double, typographic and CJK quotes, and single quotes that open after a space. */
const QUOTED = /["“”„«»「『]([^"“”„«»」』\n]*)["“”„«»」』]|(?<=^|[\s(])['‘]([^'’\n]+)['’](?=$|[\s,.;:!?)]|[\uac00-\ud7a3])/gu;
/** English lettering requests running to the end of the clause. */
const EN_LETTERING = /\b(?:(?:with|and|featuring)\s+)?(?:the\s+|a\s+)?(?:(?:words?|text|lettering|letters|caption|slogan|typography|headline)\b\s*(?:(?:that\s+)?(?:says?|reads?|saying|reading)\b)?|(?:that|which)\s+(?:says|reads)\b|saying\b|written\b)\s*:?\s*[^,.;\n]*/giu;
/** Lone English words that ask for marks in the image. */
const EN_MARKS = /\b(?:(?:with|and)\s+)?(?:(?:a|the)\s+)?(?:logo|logos|watermark|watermarks|signature)\b/giu;
/** Korean attachments to a removed quote: '"SALE"이라고 적힌', '"50%" 글씨가'. */
const AFTER_QUOTE = /^\s*(?:이?라고|이?란|이?라는)?\s*(?:(?:적힌|쓰인|써진|쓰여진|새겨진|들어간|써 있는|적혀 있는)\s*)?(?:(?:글씨|글자|문구|텍스트|레터링|로고|자막|카피|슬로건|문자)(?:가|를|는|와|로|이|을|은|과|으로|도|의)?)?/u;

/** The text without lettering requests, and what was removed (as typed). */
export interface GuardedText {
  text: string;
  removed_text: string[];
}

/**
 * Removes lettering requests from `text`.
 * @returns the remaining text (removed spans become a space) and each removed span, trimmed, in order found.
 */
export function removeLettering(text: string): GuardedText {
  const removed: string[] = [];
  let out = text.normalize('NFC');
  // quoted words, with a lettering request before ("with the words") or after ("글씨", "이라고 적힌")
  let kept = '';
  let from = 0;
  for (const match of out.matchAll(QUOTED)) {
    if (match.index! < from) continue;
    const after = AFTER_QUOTE.exec(out.slice(match.index! + match[0].length))?.[0] ?? '';
    removed.push(`${match[0]}${after}`.trim());
    kept += `${out.slice(from, match.index)} `;
    from = match.index! + match[0].length + after.length;
  }
  out = kept + out.slice(from);
  out = out.replace(EN_LETTERING, (match: string) => {
    if (match.trim()) removed.push(match.trim());
    return ' ';
  });
  out = out.replace(EN_MARKS, (match: string) => {
    removed.push(match.trim());
    return ' ';
  });
  out = out.replace(KO_WRITTEN, (match: string) => {
    removed.push(match.trim());
    return ' ';
  });
  // Korean lettering nouns, with the bare word before them (its content: "할인 문구", "간판 글씨")
  const clauses = out.split(/([,，、;\n])/u);
  for (let c = 0; c < clauses.length; c += 2) {
    const words = clauses[c]!.split(/(\s+)/u);
    for (let i = 0; i < words.length; i += 2) {
      if (!KO_LETTERING.test(words[i]!)) continue;
      let start = i;
      const prev = words[i - 2];
      if (prev && !/^(?:로고|워터마크)/u.test(words[i]!) && /^[^\s]+$/u.test(prev) && !/(?:[을를이가은는에의와과도로]|에서)$/u.test(prev)) start = i - 2;
      removed.push(words.slice(start, i + 1).join(''));
      for (let k = start; k <= i; k++) words[k] = '';
    }
    clauses[c] = words.join('');
  }
  out = clauses.join('');
  return { text: out.replace(/[ \t]+/g, ' ').replace(/ ([,.;])/g, '$1').trim(), removed_text: removed.filter(Boolean) };
}
