"""Who makes a claim: the speaker a news sentence reports, and how an answer names the article that carries it.

The outlet that publishes an article is not the speaker of a quote it reports ("Iran's foreign ministry spokesman
said ..." in a Sputnik article is Khatibzadeh's claim, carried by Sputnik). Reported speech in news follows a few
fixed shapes, so the speaker is read with a small grammar over a reporting-verb lexicon, as quote attribution in
newsroom tools is: "X said ...", "..., X said.", "said X", "according to X", "X told Y", "X claimed/warned/denied".
A pronoun ("he said") takes the last person named before the sentence in its passage.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .models import Citation, Passage

MAX_SPEAKER_WORDS = 12  # a speaker is a noun phrase; past this the grammar has caught a clause, not a name
CONTEXT_CHARS = 600  # how far back a pronoun speaker ("he said") looks for the person it stands for
PRONOUN_SENTENCES = 3  # sentences before a "he said" searched for the speaker it continues

# Verbs that report what someone claims, by lemma: "said" dominates news; the rest are this genre's claim verbs.
_LEMMAS = (
    "claim warn state add note insist insinuate accuse allege deny announce suggest argue tweet declare confirm "
    "blame frame assert explain stress emphasize emphasise urge condemn maintain describe believe charge vow point "
    "call cite classify reveal dismiss slam admit denounce characterize characterise reject criticize criticise "
    "acknowledge predict estimate insist"
)
_IRREGULAR = "said|says|say|saying|told|tells|tell|telling|wrote|writes|write|writing"
# The same verbs as a question asks with them ("Who did X *say* ...", "Which general *blamed* ..."), by lemma.
CLAIM_LEMMAS = frozenset([*_LEMMAS.split(), "say", "tell", "write"])
# "claimed responsibility" and "called for" report a deed or a demand, not a claim about what happened.
DEED_OBJECTS = frozenset({"responsibility", "credit", "for", "off"})


# Lemmas that are as often nouns ("no immediate claim", "a call"): only their past forms report speech.
_NOUNISH = {"claim", "call", "point", "charge", "state", "note", "blame", "frame", "estimate", "stress"}


def _forms(lemma: str) -> str:
    stem = lemma[:-1] if lemma.endswith("e") else lemma
    if lemma.endswith("y"):
        return f"{lemma}|{lemma[:-1]}ies|{lemma[:-1]}ied|{lemma}ing"
    if lemma in _NOUNISH:
        return f"{stem}ed|{stem}ing"
    return f"{lemma}|{lemma}s|{stem}ed|{stem}ing" + (f"|{lemma}es" if lemma.endswith(("s", "sh")) else "")


_VERBS = "|".join([_IRREGULAR, *(_forms(w) for w in dict.fromkeys(_LEMMAS.split()))])
_VERB = re.compile(rf"\b(?:{_VERBS})\b(?!\s+(?:{'|'.join(sorted(DEED_OBJECTS))})\b)|\bquoted as saying\b")
_ACCORDING = re.compile(r"\baccording to ([^,.;:\u201d\"]+)", re.IGNORECASE)
# '"...," said Saeed Khatibzadeh': the speaker after the verb, only right after a closing quote.
_INVERTED = re.compile(r"\s*(?:said|says|added|told)\s+((?:the |an? )?[A-Za-z][^,.;:\u201c\"]*?)(?=[,.;:]|$)")
_CLOSING = ("\u201d", ",\u201d", '"', ',"')
# What may stand between a subject and its verb: an auxiliary or a time word ("has also said", "on Sunday said").
_AUX = re.compile(
    r"(?:\s+(?:has|have|had|is|are|was|were|been|now|also|later|then|earlier|further|\w+ly|"
    r"(?:went\s+on|continued|sought|tried|appeared|seemed|has\s+been\s+trying)\s+to|"
    r"(?:on|late|early)\s+\w+|in\s+a\s+\w+(?:\s+\w+)?))+$",
    re.IGNORECASE,
)
# Where a subject noun phrase starts: after a clause boundary, a conjunction or a relative word.
_BOUNDARY = re.compile(
    r"(?:^|[;:\u2014\u2013\u201d]|\s--|\b(?:that|which|what|while|whereas|but|because|after|before|when|since|"
    r"though|although|despite|if|where|whom|who|whose)\b)\s*",
    re.IGNORECASE,
)
_INTRO = re.compile(r"^(?:in|on|at|after|before|during|speaking|meanwhile|earlier|later|separately|also|however)\b"
                    r"[^,]*,\s*",
                    re.IGNORECASE)
_RELATIVE = re.compile(r",\s*(?:who|which|whose|where)\b[^,]*,", re.IGNORECASE)
_PRONOUNS = {"he", "she", "they", "it", "we", "i", "you"}
_PERSONAL = {"he", "she"}
# Heads that make a noun phrase someone who can speak; a capitalised name qualifies on its own.
_AGENT_HEADS = re.compile(
    r"\b(?:officials?|spokes(?:man|woman|person)|minister|ministry|sources?|military|army|government|agency|"
    r"leaders?|president|chief|commanders?|analysts?|witness(?:es)?|police|group|groups|alliance|movement|"
    r"observers|experts|officers?|diplomats?|envoy|ambassador|embassy|statement|report|reports|residents|"
    r"authorities|security|forces|militias?|media|state|council|party|bloc|coalition|parliament|lawmakers?|"
    r"politicians?|activists?|journalists?|lawyers?|aides?|advis[eo]rs?|clerics?|scholars?|researchers?|"
    r"negotiators?)\b",
    re.IGNORECASE,
)
_TITLES = r"(?:(?:Mr|Mrs|Ms|Dr|Gen|Maj|Col|Lt|Sgt|Capt)\.\s+)*"
_NAME = re.compile(rf"\b{_TITLES}[A-Z][\w'\u2019-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w'\u2019-]+)*")
_SENTENCE_START = re.compile(r"^(?:The|A|An|This|That|These|Those|It|Its|In|On|At)\b")


_PERSON_NAME = re.compile(
    rf"{_TITLES}[A-Z][\w'\u2019-]+(?:\s+(?:al-|bin\s+)?[A-Z][\w'\u2019-]+)+"
)
_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been|being)(?:\s+\w+ly)?\s*$", re.IGNORECASE)
_PROGRESSIVE = re.compile(r"\b(?:is|are|was|were|be|been)(?:\s+\w+ly|\s+now)*\s*$", re.IGNORECASE)
_LINKING = re.compile(r"^\s*(?:as well as|and|but|with|also)\s+", re.IGNORECASE)
# Words that make a noun phrase a person a "he" or "she" can stand for.
_PERSON_ROLE = re.compile(
    r"\b(?:spokes(?:man|woman|person)|minister|president|leader|chief|commander|cleric|official|source|secretary|"
    r"ambassador|envoy|general|analyst|lawmaker|premier|head)\b",
    re.IGNORECASE,
)
_INNER = re.compile(rf"\s*(?:that\s+)?([^,;:\u201c\"]{{3,120}}?)\s+(?:\w+ly\s+)?(?:{_VERBS})\b")
_BY_AGENT = re.compile(r"^\s*by\s+([^,.;:]+?)(?=\s+(?:of|for|over|in|on|at|after|with|as|to)\s|[,.;:]|$)")


def _trim(phrase: str) -> str | None:
    """A noun phrase without intro, trailing auxiliaries and quote marks; None if empty or too long."""
    phrase = _INTRO.sub("", phrase.strip())
    phrase = _AUX.sub("", phrase).strip(" ,\u201c\u201d\"'")
    if not phrase or len(phrase.split()) > MAX_SPEAKER_WORDS:
        return None
    return phrase


def _clean(phrase: str) -> str | None:
    """The speaker in a subject phrase: a person's name among its comma parts (with the role after it), else the
    part next to the verb; None when nothing in it can speak."""
    parts = [p for p in (_trim(_LINKING.sub("", x)) for x in _INTRO.sub("", phrase.strip()).split(",")) if p]
    if not parts:
        return None
    if len(parts) > 1 and " and " in parts[-1] and all(len(p.split()) <= 4 for p in parts):
        return ", ".join(parts)  # a list of speakers: "Iran, Syria, Hezbollah and other regional forces"
    for i, part in enumerate(parts):
        if _PERSON_NAME.fullmatch(part) or (_PERSON_NAME.match(part) and part.split()[0][0].isupper()
                                            and not _SENTENCE_START.match(part) and len(part.split()) <= 5):
            role = parts[i + 1] if i + 1 < len(parts) and not parts[i + 1][0].isupper() else None
            joined = f"{part}, {role}" if role else part
            return joined if len(joined.split()) <= MAX_SPEAKER_WORDS else part
    last = parts[-1]
    return last if _speaks(last) else None


def _speaks(phrase: str) -> bool:
    """A noun phrase that can be a speaker: a name, a role or a body, or a personal pronoun."""
    if phrase.lower() in _PERSONAL:
        return True
    if phrase.lower() in _PRONOUNS or _MODAL.search(phrase):
        return False  # "the US military would target them": a clause, not the one speaking
    if _AGENT_HEADS.search(phrase):
        return True
    # A capitalised word other than a sentence-initial article is a name ("Iran", "IRNA", "Saeed Khatibzadeh").
    rest = _SENTENCE_START.sub("", phrase)
    return any(m.group()[0].isupper() for m in _NAME.finditer(rest))


_MODAL = re.compile(r"\b(?:would|will|could|should|might|must|can|may)\s+\w", re.IGNORECASE)


# Conjunctions that open a subordinate clause ending at a comma: "Since X took office, the Pentagon has said".
_SUBORDINATE = re.compile(r"\b(?:because|after|before|when|since|though|although|despite|if|while|whereas)\s*$",
                          re.IGNORECASE)


def _subject(before: str) -> str | None:
    """The subject noun phrase right before a reporting verb."""
    bounds = list(_BOUNDARY.finditer(before))
    start = bounds[-1].end() if bounds else 0
    if bounds and _SUBORDINATE.search(before[: bounds[-1].end()]) and "," in before[start:]:
        start = before.index(",", start) + 1  # the clause it opens ends at the comma; the subject follows
    return _clean(before[start:])


def _own(sentence: str, context: str, depth: int) -> str | None:
    for m in _ACCORDING.finditer(sentence):
        found = _trim(m.group(1))
        if found and _speaks(found) and found.lower() not in _PRONOUNS:
            return found
    for m in _VERB.finditer(sentence):
        # Relative clauses hide the subject ("Norm Roule, who served ... and worked ..., said").
        before = _RELATIVE.sub(",", sentence[: m.start()]).rstrip()
        if m.group().endswith("ing") and not _PROGRESSIVE.search(before):
            continue  # "..., calling on the public": a participle whose subject is elsewhere
        participle = m.group().endswith("ed") or m.group() in {"said", "told", "written"}
        passive = _PASSIVE.search(before) if participle else None
        if passive and not m.group().startswith("quoted"):
            # "was accused by pro-Iran groups": the one after "by" makes the claim; without "by", nobody named.
            by = _BY_AGENT.match(sentence[m.end() :])
            found = _trim(by.group(1)) if by else None
            if found and _speaks(found):
                return found
            continue
        if passive:
            before = before[: passive.start()].rstrip()
        if before.endswith(_CLOSING):
            after = _INVERTED.match(sentence, m.start() - 1 if m.start() else 0)
            if after:
                found = _trim(after.group(1))
                if found and _speaks(found) and found.lower() not in _PRONOUNS:
                    return found
        found = _subject(before)
        if found is None or not _speaks(found):
            continue
        if found.lower() in _PERSONAL:
            return _antecedent(context, depth)
        # "IRNA said Iranian Foreign Ministry spokesman Saeed Khatibzadeh framed ...": the claim is the inner one's.
        inner = _INNER.match(sentence, m.end())
        if inner:
            nested = _clean(inner.group(1))
            if nested and _is_person(nested):
                return nested
        return found
    return None


def _is_person(phrase: str) -> bool:
    return bool(_PERSON_NAME.search(_SENTENCE_START.sub("", phrase)) or _PERSON_ROLE.search(phrase))


def _antecedent(context: str, depth: int, person: bool = True) -> str | None:
    """Who a 'he said' stands for: the speaker of a sentence just before (news keeps its speaker across
    sentences), else the last full name before it."""
    from .sentences import split_sentences

    tail = context[-CONTEXT_CHARS:]
    if depth > 0:
        sents = split_sentences(tail)
        for i in range(len(sents) - 1, max(-1, len(sents) - 1 - PRONOUN_SENTENCES), -1):
            found = _own(sents[i].text, tail[: sents[i].start], depth - 1)
            if found and (_is_person(found) or not person):
                return found
    if not person:
        return None
    names = [m.group() for m in _PERSON_NAME.finditer(tail) if not _SENTENCE_START.match(m.group())]
    return names[-1] if names else None


def speaker(sentence: str, context: str = "") -> str | None:
    """Who the sentence reports as making its claim, or None for the outlet's own narration.

    `context` is the text before the sentence in its article, used to resolve a pronoun speaker.
    """
    found = _own(sentence, context, depth=1)
    if found is None and sentence.lstrip().startswith(("\u201c", '"')):
        # A quotation with no attribution of its own goes on from the sentence before ("...," he said. "More.")
        found = _antecedent(context, depth=1, person=False)
    if found and re.match(r"(?:The|A|An)\s", found):  # "the State Department", as it reads inside a label
        found = found[0].lower() + found[1:]
    return found


def passage_speaker(quote: str, passage: Passage) -> str | None:
    """The speaker of a quote taken from a passage (the passage's text before it resolves a pronoun)."""
    at = passage.text.find(quote)
    return speaker(quote, passage.text[:at] if at > 0 else "")


_HASHED_ID = re.compile(r"^(.+?)_[0-9a-f]{8,}$")


def source_name(source_id: str, outlet: str | None) -> str:
    """How an answer names an article: its outlet, else "article <id>" (the headline is on its card)."""
    if outlet:
        return outlet
    m = _HASHED_ID.match(source_id)
    return f"article {m.group(1) if m else source_id}"


def claim_label(outlets: list[str], speaker_name: str | None) -> str:
    """The label in front of a quoted claim: who carries it and, when it reports someone, whose claim it is."""
    carriers = " and ".join(dict.fromkeys(outlets))
    if speaker_name and speaker_name.lower() not in carriers.lower():
        return f"{carriers}, citing {speaker_name}"
    return carriers


NEAREST_SHOWN = 2  # closest passages shown with a refusal: a pointer to read on from, not an answer


def cite(quote: str, passage: Passage, marker: int) -> Citation:
    """A quote of a passage as a citation: its words verbatim, its source, and whose claim it is."""
    return Citation(marker=marker, source_id=passage.source_id, title=passage.title, outlet=passage.outlet,
                    quote=quote, speaker=passage_speaker(quote, passage))


def closest(ranked: Iterable[tuple[str, Passage]], limit: int = NEAREST_SHOWN) -> list[Citation]:
    """With a refusal: the first candidate of each source among `ranked` (best first, each close enough to show),
    up to `limit` sources, as citations numbered from 1."""
    shown: dict[str, tuple[str, Passage]] = {}
    for quote, passage in ranked:
        if len(shown) == limit:
            break
        shown.setdefault(passage.source_id, (quote, passage))
    return [cite(quote, passage, i + 1) for i, (quote, passage) in enumerate(shown.values())]
