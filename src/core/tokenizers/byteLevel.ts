/**
 * GPT-2 / CLIP `bytes_to_unicode` (openai/CLIP `simple_tokenizer.py`): a printable character standing in
 * for each of the 256 byte values, so byte-level BPE works on strings. Index = byte value.
 */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (const [lo, hi] of [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]] as const) for (let b = lo; b <= hi; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const table = new Array<string>(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

/** The byte symbols in CLIP's vocabulary order (the order `bytes_to_unicode().values()` yields). */
export function byteSymbolsInVocabOrder(): string[] {
  const table = bytesToUnicode();
  const order: number[] = [];
  for (const [lo, hi] of [[0x21, 0x7e], [0xa1, 0xac], [0xae, 0xff]] as const) for (let b = lo; b <= hi; b++) order.push(b);
  for (let b = 0; b < 256; b++) if (!order.includes(b)) order.push(b);
  return order.map((b) => table[b]!);
}

/**
 * CLIP's vocabulary, which follows from its merges (openai/CLIP `SimpleTokenizer.__init__`): byte symbols,
 * the same with `</w>`, one token per merge, then `<|startoftext|>`, `<|endoftext|>`.
 */
export function clipVocabFromMerges(merges: readonly string[]): Record<string, number> {
  const symbols = byteSymbolsInVocabOrder();
  const tokens = [...symbols, ...symbols.map((s) => `${s}</w>`), ...merges.map((m) => m.replace(' ', '')), '<|startoftext|>', '<|endoftext|>'];
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  return vocab;
}
