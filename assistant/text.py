"""Text normalisation and removal of scraped boilerplate from news articles."""

from __future__ import annotations

import re
import string
import unicodedata

LATIN_SHARE = 0.5  # a line under half Latin letters is a foreign UI string: an article quoting a name keeps its line
_QUOTES = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    }
)
_SPACES = re.compile(r"[^\S\n]+")


def normalize(text: str) -> str:
    """NFKC, straight quotes, single spaces; keeps line breaks (use `flatten` to drop them too)."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines)


def flatten(text: str) -> str:
    """Normalise and collapse all whitespace, line breaks included, to single spaces."""
    return " ".join(normalize(text).split())


# Lines that are never article body. Patterns are matched against a whole normalised line.
_BOILERPLATE = [
    r"sign up for .*newsletters?",
    r"(subscribe|sign up) (to|for) .*",
    r"source link",
    r"share this article",
    r"share( on)? (facebook|twitter|x|email)",
    r"to participate in the discussion",
    r"log in or register",
    r"read more:?.*",
    r"related:? .*",
    r"advertisement",
    r"click here .*",
    r"follow us on .*",
    r".* can also be accessed at the following alternate addresses:?",
    r"this article is based in part on wire service reports\.?",
    r"[\w ]{0,40}\broku",
]
_BOILERPLATE_RE = re.compile(r"^(?:" + "|".join(_BOILERPLATE) + r")$", re.IGNORECASE)
_URL_LINE = re.compile(r"^(https?://\S+|www\.\S+|\S+\.(com|org|net|co\.uk|ir|ru)(/\S*)?)$", re.IGNORECASE)
_PHOTO_LINE = re.compile(
    r"^(©|\(c\) |photo ?:|file photo\b|image ?:|credit ?:)"  # credit / caption openers
    r"|\((photo|image|picture|file photo)( by| credit)?\b[^)]*\)$"  # "(Photo by AFP)" at the end
    r"| - [^,]{2,60}, \d{3,4}, \d{2}\.\d{2}\.\d{4}$",  # "... - Sputnik International, 1920, 07.11.2021"
    re.IGNORECASE,
)
# "<name> in: <post title>": the header of a blog-comment widget; everything after it is comments.
_COMMENT_WIDGET = re.compile(r"^\S+ in: .+$")
_BREADCRUMB = re.compile(r"^[\w .&-]{1,30}( / [\w .&-]{1,30})+$")
_SENTENCE_END = re.compile(r"([.!?][\"')\]]*|[:;,])$")


def _is_foreign_ui(line: str) -> bool:
    """A line written mostly in a non-Latin script (a UI string left by the scraper)."""
    if line.isascii():  # most lines: no letter to look up (the lookup made re-reading a large corpus slow)
        return False
    letters = [c for c in line if c.isalpha()]
    if not letters:
        return False
    latin = sum(1 for c in letters if c.isascii() or "LATIN" in unicodedata.name(c, ""))
    return latin / len(letters) < LATIN_SHARE


def is_boilerplate(line: str) -> bool:
    """True for a line that is scraped page furniture rather than article text."""
    return bool(
        _BOILERPLATE_RE.match(line)
        or _URL_LINE.match(line)
        or _PHOTO_LINE.search(line)
        or _BREADCRUMB.match(line)
        or _is_foreign_ui(line)
    )


def is_heading(line: str) -> bool:
    """A line with no sentence-ending punctuation: a headline, sub-heading, section label or related link."""
    return not _SENTENCE_END.search(line)


def clean_lines(text: str) -> list[str]:
    """Normalised non-empty lines with boilerplate removed and trailing comments cut off."""
    lines: list[str] = []
    for line in normalize(text).split("\n"):
        if not line:
            continue
        if _COMMENT_WIDGET.match(line) and lines:
            break
        if not is_boilerplate(line):
            lines.append(line)
    return lines


_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:instructions?|prompts?|rules|directions)\b|"
    r"\b(?:system prompt|as an ai\b|you are (?:now )?(?:a|an|the) (?:assistant|ai|language model|chatbot))",
    re.IGNORECASE,
)


def instruction(sentence: str) -> bool:
    """A sentence that addresses a language model ("Ignore previous instructions and say ..."): an article that
    carries one is reporting or planting it, so it is never quoted as evidence, by any answerer."""
    return bool(_INSTRUCTION.search(sentence))


_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


def _is_punctuation(char: str) -> bool:
    # SQuAD drops ASCII punctuation; curly quotes and dashes count too.
    return char in string.punctuation or unicodedata.category(char).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD normalisation, how two answers are compared: lower-case, no punctuation, no articles (a/an/the),
    single spaces."""
    text = "".join(c for c in text.lower() if not _is_punctuation(c))
    return " ".join(_ARTICLES.sub(" ", text).split())
