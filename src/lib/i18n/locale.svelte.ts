/**
 * The interface language: Korean when the browser prefers Korean (`navigator.languages`), English otherwise,
 * until the user picks one; the pick is kept in localStorage and `<html lang>` follows it.
 */
import { en, type Messages } from './en.ts';
import { ko } from './ko.ts';

export const LOCALES = ['ko', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
const MESSAGES: Record<Locale, Messages> = { en, ko };
const KEY = 'ad-studio:locale';

/** The browser's preference: `ko` when its first Korean or English language tag is Korean. */
export function browserLocale(languages: readonly string[] = globalThis.navigator?.languages ?? []): Locale {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ko') return 'ko';
    if (base === 'en') return 'en';
  }
  return 'en';
}

function savedLocale(): Locale | undefined {
  try {
    const value = localStorage.getItem(KEY);
    return LOCALES.includes(value as Locale) ? (value as Locale) : undefined;
  } catch {
    return undefined;
  }
}

class LocaleState {
  current = $state<Locale>(savedLocale() ?? browserLocale());
  t = $derived<Messages>(MESSAGES[this.current]);

  constructor() {
    $effect.root(() => {
      $effect(() => {
        document.documentElement.lang = this.current;
      });
    });
  }

  /** Switches the language and keeps the choice. */
  set(locale: Locale): void {
    this.current = locale;
    try {
      localStorage.setItem(KEY, locale);
    } catch {
      // storage disabled: the choice lasts for this visit
    }
  }
}

/** The page's one language state. */
export const locale = new LocaleState();
