"""Reference token ids for test/core/clipTokenizer.test.ts: Hugging Face's slow `CLIPTokenizer` algorithm
(transformers models/clip/tokenization_clip.py, without ftfy: BasicTokenizer(strip_accents=False,
do_split_on_punc=False) clean-up, the CLIP regex, byte-level BPE of openai/CLIP simple_tokenizer.py),
transcribed to plain Python with the `regex` module, over the real CLIP merges in ../shared.

Needs: apt-get install python3-regex. Run:
  /usr/bin/python3 scripts/reference/clip_tokenize.py ../shared/reference/clip/bpe_simple_vocab_16e6.txt.gz > test/fixtures/clip-ids.json
"""
import gzip
import json
import sys
import unicodedata

import regex as re

PROMPTS = json.load(open("src/core/product/ad-cases.json"))
TEXTS = [c["prompt"] for c in PROMPTS["cases"]] + [c["prompt_ko"] for c in PROMPTS["cases"]] + [PROMPTS["defaults"]["negative_prompt"]] + [
    "a photo of a cat",
    "Grand Opening SALE!!! 50% off, 2024-05-01 @ 10:30am",
    "café crème brûlée, naïve façade, ÜBER Straße",
    "갓 구운 빵 🥐🍞☕ 오늘만 30% 할인!",
    "family photo 👨‍👩‍👧 with 👍🏽 and ❤️",
    "寿司とラーメンの店、東京 渋谷",
    "tabs\tand\nnewlines\r\n   and   spaces\u3000ideographic space",
    "zero\u200bwidth and\u00adsoft hyphen, control\x07bell",
    "it's what we've done, they'll say you're right, I'd go, I'm in",
    "<|startoftext|>already special<|endoftext|> tokens inside",
    "ΟΔΟΣ ΚΑΙ İstanbul",
    " ".join(["bakery"] * 90),
    "fresh croissants " * 40,
]


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(n) for n in cs]))


def get_pairs(word):
    return set(zip(word, word[1:]))


merges = gzip.open(sys.argv[1]).read().decode("utf-8").split("\n")[1 : 49152 - 256 - 2 + 1]
merges = [tuple(m.split()) for m in merges]
vocab = list(bytes_to_unicode().values())
vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
encoder = dict(zip(vocab, range(len(vocab))))
ranks = dict(zip(merges, range(len(merges))))
byte_encoder = bytes_to_unicode()
pattern = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)


def bpe(token):
    if token in ("<|startoftext|>", "<|endoftext|>"):
        return token
    word = tuple(token[:-1]) + (token[-1] + "</w>",)
    pairs = get_pairs(word)
    if not pairs:
        return token + "</w>"
    while True:
        bigram = min(pairs, key=lambda pair: ranks.get(pair, float("inf")))
        if bigram not in ranks:
            break
        first, second = bigram
        new_word = []
        i = 0
        while i < len(word):
            try:
                j = word.index(first, i)
            except ValueError:
                new_word.extend(word[i:])
                break
            new_word.extend(word[i:j])
            i = j
            if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                new_word.append(first + second)
                i += 2
            else:
                new_word.append(word[i])
                i += 1
        word = tuple(new_word)
        if len(word) == 1:
            break
        pairs = get_pairs(word)
    return " ".join(word)


def is_chinese(cp):
    return any(a <= cp <= b for a, b in [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F), (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)])


def basic_tokenize(text):
    # BasicTokenizer(do_lower_case=True, strip_accents=False, do_split_on_punc=False).tokenize
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")):
            continue
        out.append(" " if ch in " \t\n\r" or unicodedata.category(ch) == "Zs" else ch)
    text = "".join(" " + ch + " " if is_chinese(ord(ch)) else ch for ch in "".join(out))
    text = unicodedata.normalize("NFC", text)
    return " ".join(token.lower() for token in text.strip().split())


def tokenize(text):
    # PreTrainedTokenizer.tokenize splits out the special tokens first, then CLIPTokenizer._tokenize
    ids = []
    for piece in re.split(r"(<\|startoftext\|>|<\|endoftext\|>)", text):
        if piece in ("<|startoftext|>", "<|endoftext|>"):
            ids.append(encoder[piece])
            continue
        for token in re.findall(pattern, basic_tokenize(piece)):
            token = "".join(byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(encoder[t] for t in bpe(token).split(" "))
    return ids


json.dump({"source": "HF CLIPTokenizer (slow, no ftfy) over openai/CLIP bpe_simple_vocab_16e6", "cases": [{"text": t, "ids": tokenize(t)} for t in TEXTS]}, sys.stdout, ensure_ascii=False)
print()
