"""Vietnamese text made comparable: one tone placement, optional diacritics, abbreviations."""

from __future__ import annotations

import re
import unicodedata

# Old and new tone placement are both correct Vietnamese (hòa / hoà, thủy / thuỷ) and both
# occur in official data, so everything is brought to the old style, tone on the first
# vowel, before comparing. Only open syllables differ; "hoàn", "toán" are the same in both.
_TONED = {
    "a": "àáảãạ",
    "e": "èéẻẽẹ",
    "y": "ỳýỷỹỵ",
}
_TONED_FIRST = {"o": "òóỏõọ", "u": "ùúủũụ"}
_PAIRS = (("o", "a"), ("o", "e"), ("u", "y"))


def _tone_rules() -> list[tuple[re.Pattern[str], dict[str, str]]]:
    rules = []
    for first, second in _PAIRS:
        mapping = {
            first + toned: _TONED_FIRST[first][i] + second
            for i, toned in enumerate(_TONED[second])
        }
        # Not after "q": in "quý" the u belongs to the consonant and the tone stays on y.
        pattern = re.compile(rf"(?<!q){first}[{_TONED[second]}](?!\w)")
        rules.append((pattern, mapping))
    return rules


_TONE_RULES = _tone_rules()
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^\w]+")


def normalise(text: str) -> str:
    """NFC, lower case, one tone placement, single spaces."""
    text = unicodedata.normalize("NFC", text or "").lower()
    for pattern, mapping in _TONE_RULES:
        text = pattern.sub(lambda m, mapping=mapping: mapping[m.group(0)], text)
    return _SPACES.sub(" ", text).strip()


def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d" if char == "đ" else "D"
    base = unicodedata.normalize("NFD", char)[0]
    return base if base.isascii() or not base.isalpha() else char


# Every precomposed Latin letter with its base letter, so folding is one str.translate.
_FOLD_TABLE = {
    code: _fold_char(chr(code))
    for code in (*range(0xC0, 0x250), *range(0x1E00, 0x1F00))
    if _fold_char(chr(code)) != chr(code)
}


def fold(text: str) -> str:
    """``normalise`` then strip diacritics (đ → d); keeps length, so spans line up."""
    return normalise(text).translate(_FOLD_TABLE)


def fold_char_by_char(normalised: str) -> str:
    """Fold text that is already normalised, one character for one character."""
    return normalised.translate(_FOLD_TABLE)


def words(text: str) -> list[str]:
    """Folded words, punctuation dropped."""
    return [w for w in _NOT_WORD.sub(" ", fold(text)).split() if w]


def has_diacritics(text: str) -> bool:
    """Whether any letter carries a Vietnamese mark (the caller typed with accents)."""
    normalised = normalise(text)
    return normalised != fold_char_by_char(normalised)


# A folded Vietnamese syllable: onset, one to three vowels, optional final consonant.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(ng|nh|ch|[cmnpt])?$"
)
_LETTER = re.compile(r"[^\W\d_]")
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0e00-\u0e7f\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def vietnamese_share(text: str) -> float:
    """Share of the words that could be Vietnamese syllables (0 for other scripts)."""
    letters = len(_LETTER.findall(text))
    if letters and len(_OTHER_SCRIPT.findall(text)) > letters / 3:
        return 0.0
    tokens = [w for w in words(text) if w.isalpha()]
    if not tokens:
        return 0.0
    return sum(bool(_SYLLABLE.match(w)) for w in tokens) / len(tokens)


def acronym(name: str) -> str:
    """Initials of a folded name: "Thủ Dầu Một" → "tdm"."""
    return "".join(w[0] for w in words(name))
