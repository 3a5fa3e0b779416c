"""The library's registered checks on the answer's language: `custom: answer-language:<code>` in a scenario file.

A scenario file names a check; it never imports one. These are built in, beside the library's stand-in tools,
so the eval suite (`scenarios/eval/`) can ask that the answer follows the user's language while tool arguments
stay canonical (checked by the usual `tool_called` / `trajectory` expectations).

- `zh`, `ja`, `hi`, `ar`: script detection on the answer's letters. At least half must be in the language's script
  (Han for Chinese, Han or kana for Japanese, Devanagari, Arabic), so a Latin name such as "Tokyo" inside the
  answer is fine. Chinese has no kana; Japanese has some, so a Chinese answer to a Japanese question fails.
- `en`, `es`, `sw`: the answer is mostly Latin letters and a vote of common words: at least two of the language's
  own, and more than of either other Latin-script language. Words shared between them ("no", "a") do not count.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

PREFIX = "answer-language:"
"""`custom: answer-language:ja` names the check for Japanese answers."""

_SCRIPT_LANGUAGES = {"zh": ("han",), "ja": ("han", "kana"), "hi": ("devanagari",), "ar": ("arabic",)}
_NAMES = {
    "en": "English",
    "es": "Spanish",
    "sw": "Swahili",
    "zh": "Chinese",
    "ja": "Japanese",
    "hi": "Hindi",
    "ar": "Arabic",
}
_WORDS = {
    "en": set(
        "the is it its in of and to are was i for have has right now today which where there at from sorry can't "
        "cannot only total visitors closes opens open weather with had most degrees city".split()
    ),
    "es": set(
        "el la los las de del que en es un una y con por para hoy hace ahora mismo donde tiempo grados está son fue "
        "más ciudad lo siento puedo tengo ninguna cierra abre desde hasta visitantes mesas decir".split()
    ),
    "sw": set(
        "na ya wa ni kwa katika leo hali hewa sasa jiji jijini mji mkuu joto nyuzi kuna saa hadi jioni jumla wageni "
        "samahani siwezi sina zana yaani ambapo zaidi lenye hivyo sababu kuanzia asubuhi".split()
    ),
}
LANGUAGES = tuple(_NAMES)
_ARABIC = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


def script_of(char: str) -> str:
    """`han`, `kana`, `devanagari`, `arabic`, `latin` or `other`, for one letter."""
    point = ord(char)
    if 0x3040 <= point <= 0x30FF or 0x31F0 <= point <= 0x31FF or 0xFF66 <= point <= 0xFF9F:
        return "kana"
    if 0x4E00 <= point <= 0x9FFF or 0x3400 <= point <= 0x4DBF or 0xF900 <= point <= 0xFAFF:
        return "han"
    if 0x0900 <= point <= 0x097F:
        return "devanagari"
    if any(low <= point <= high for low, high in _ARABIC):
        return "arabic"
    if point < 0x0250 or 0x1E00 <= point <= 0x1EFF:
        return "latin"
    return "other"


def _scripts(text: str) -> Counter[str]:
    return Counter(script_of(c) for c in text if c.isalpha())


def _shares(scripts: Counter[str]) -> str:
    total = sum(scripts.values())
    return ", ".join(f"{name} {count / total:.0%}" for name, count in scripts.most_common())


def _words(text: str) -> list[str]:
    normalised = unicodedata.normalize("NFC", text.lower().replace("\u2019", "'"))
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", normalised)


def check_language(code: str, answer: str) -> tuple[bool, str]:
    """Whether `answer` is written in the language `code`, and if not, what it looks like instead."""
    scripts = _scripts(answer)
    letters = sum(scripts.values())
    name = _NAMES[code]
    if not letters:
        return False, f"the answer has no words to tell its language by (wanted {name})"
    if code in _SCRIPT_LANGUAGES:
        own = sum(scripts[s] for s in _SCRIPT_LANGUAGES[code])
        if code == "zh" and scripts["kana"]:
            return False, f"the answer has Japanese kana, not only Chinese characters ({_shares(scripts)})"
        if code == "ja" and not scripts["kana"]:
            return False, f"the answer has no kana, so it is not Japanese ({_shares(scripts)})"
        if own * 2 < letters:
            return False, f"less than half of its letters are {name} script ({_shares(scripts)})"
        return True, ""
    if scripts["latin"] * 2 < letters:
        return False, f"less than half of its letters are Latin, as {name} is written ({_shares(scripts)})"
    return _vote(code, _words(answer))


def _vote(code: str, words: list[str]) -> tuple[bool, str]:
    shared = set.intersection(*_WORDS.values()) | {"no", "a"}
    counts = {lang: sum(w in vocabulary and w not in shared for w in words) for lang, vocabulary in _WORDS.items()}
    own = counts[code]
    rival = max((lang for lang in counts if lang != code), key=lambda lang: counts[lang])
    if own >= 2 and own > counts[rival]:
        return True, ""
    if counts[rival] >= own and counts[rival]:
        return (
            False,
            f"the answer reads as {_NAMES[rival]} ({counts[rival]} common words) more than {_NAMES[code]} ({own})",
        )
    return False, f"too few common {_NAMES[code]} words in the answer ({own}; at least 2 wanted)"


def language_check(code: str) -> Callable[[Any], tuple[bool, str]]:
    """The check `answer-language:<code>`: called with the run's `Outcome`."""

    def check(outcome: Any) -> tuple[bool, str]:
        return check_language(code, str(getattr(outcome, "final_answer", "") or ""))

    check.__name__ = f"answer_language_{code}"
    return check


def library_check(name: str) -> Callable[[Any], tuple[bool, str]] | None:
    """The built-in check called `name` (`answer-language:<code>` for a language above), else None."""
    if name.startswith(PREFIX) and name.removeprefix(PREFIX) in _NAMES:
        return language_check(name.removeprefix(PREFIX))
    return None
