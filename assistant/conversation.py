"""Follow-up questions, resolved once: a question that needs the previous turn becomes one that stands alone.

`resolve` is called once per question by `Assistant.ask`; the retriever and the answerer both take its `Query`,
and nothing downstream reads the chat history again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field

from .models import Message
from .places import is_place_word


class Query(BaseModel):
    """A question ready for retrieval and answering."""

    asked: str = Field(description="What the user typed, stripped.")
    text: str = Field(description="The question standing alone: what is retrieved and answered.")
    form: str = Field(description="The question whose wording says what kind of answer is wanted.")
    followup: bool = False
    referents: list[str] = Field(default_factory=list, description="Names from the previous reply it points at.")
    outlets: list[str] = Field(default_factory=list, description="Outlets the question names: evidence is theirs.")
    by_source: bool = Field(default=False, description="The question asks how the sources compare.")

    @classmethod
    def plain(cls, question: str) -> Query:
        """A question that needs no conversation."""
        q = question.strip()
        return cls(asked=q, text=q, form=q)


# Pronouns that point at a person; a name (or a noun naming a role) earlier in the question is their referent.
_PERSONAL = {"he", "his", "him", "she", "her", "hers", "himself", "herself"}
_OBJECT = {"him", "himself", "herself"}  # "the strike that killed him": a role noun before it is not its referent
_PLURAL = {"they", "them", "their", "theirs", "themselves"}
_THING = {"it", "its"}
# Demonstratives stand for something only as a whole noun phrase: "Who said that?", not "the attack that ...".
_DEMONSTRATIVE = {"this", "that", "these", "those"}
_ROLE_NOUNS = {
    "spokesman", "spokeswoman", "spokesperson", "president", "minister", "leader", "commander", "general",
    "ambassador", "officer", "official", "chief", "head", "secretary", "cleric", "patriarch", "premier", "pm",
    "man", "woman", "king", "prince", "senator", "governor", "mayor", "director", "ceo", "founder", "judge",
    "colonel", "admiral", "envoy", "diplomat", "militant", "lawmaker", "representative", "lieutenant",
}
_CONTINUATION = re.compile(
    r"^\s*(and|but|so|what about|how about|what else|who else|anything else|and the other|the other one|"
    r"same for|what of)\b",
    re.IGNORECASE,
)
# A preface that announces a question rather than its topic ("Different question:", "Quick question -", "OK, one
# more thing:"): it carries no terms to match, and what follows stands alone. A topic before a colon ("PMF
# militiamen: how many?") is kept, and so is a continuation word ("Also, who paid?" may need the previous turn).
_PREFACE = re.compile(
    r"^\s*(?:(?:ok(?:ay)?|btw|by the way)[,\s]+)?"
    r"(?:(?:a|one|another|different|new|quick|other|last|next|more|separate|unrelated)\s+)*(?:question|thing|topic)"
    r"\s*[:\-–—,]\s+(?=\S)",
    re.IGNORECASE,
)
_LEADING_CONJUNCTION = re.compile(r"^\s*(and|but|so|also)\s+(?=\w)", re.IGNORECASE)
_ELLIPSIS = re.compile(r"\b(the other (one|ones|side)|the same (one|thing)|the (first|second|latter|former) one)\b",
                       re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][\w'’-]*")
_NAME = re.compile(r"\b[A-Z][\w'-]+(?:\s+(?:al-|bin\s+|of\s+)?[A-Z][\w'-]+)+")
_MARKER = re.compile(r"\[[^\]]*\]")
_NON_REFERENTS = {"What", "Who", "When", "Where", "Why", "How", "Which", "Did", "Was", "Is", "Does", "The"}


def names(text: str, limit: int = 4) -> list[str]:
    """Multi-word capitalised names in `text` ("Nechirvan Barzani", "Qais al-Khazali"), first few, no repeats."""
    found: dict[str, None] = {}
    for m in _NAME.finditer(_MARKER.sub(" ", text)):
        parts = m.group().split()
        while parts and parts[0] in _NON_REFERENTS:
            parts = parts[1:]
        if len(parts) >= 2:
            found.setdefault(" ".join(parts), None)
    return list(found)[:limit]


def _dangling(question: str) -> str | None:
    """The first pronoun or demonstrative of `question` with no referent inside the question itself, if any."""
    tokens = _WORD.findall(question)
    for i, raw in enumerate(tokens):
        word = raw.lower()
        before = tokens[:i]
        if word in _PERSONAL:
            named = any(j > 0 and _could_be_person(t) for j, t in enumerate(before))
            role = word not in _OBJECT and any(t.lower() in _ROLE_NOUNS for t in before)
            if not (named or role):
                return raw
        elif word in _THING and i + 1 < len(tokens) and tokens[i + 1].lower() in _EXPLETIVE_AFTER_IT:
            continue  # "Is it true that ...": the question itself says what "it" is
        elif word in _PLURAL:
            # "What did the militias say they would do?": a plural noun or a name before it is its referent;
            # "Who launched them?" has none.
            if not any(_plural_or_name(t, j) for j, t in enumerate(before)):
                return raw
        elif word in _THING:
            # "it": a word before it other than the question's own wh-word, auxiliaries and prepositions may be its
            # referent ("What did the militia say about it?"; not "Who was behind it?").
            content = [t for t in before if t.lower() not in _FUNCTION and t.lower() not in _PREPOSITIONS]
            if not content:
                return raw
        elif word in _DEMONSTRATIVE:
            nxt = tokens[i + 1].lower() if i + 1 < len(tokens) else None
            if nxt is None or nxt in _FUNCTION:
                return raw  # "Who said that?", "Why was that?" stand for a previous answer
    return None


_PREPOSITIONS = {"behind", "against", "after", "before", "from", "into", "over", "under", "at", "by", "through",
                 "during", "without", "within", "toward", "towards", "near", "across", "around", "beyond", "like"}
_EXPLETIVE_AFTER_IT = {"true", "possible", "likely", "known", "clear", "confirmed", "correct", "right"}
_ORG_WORDS = {"force", "forces", "ministry", "council", "agency", "army", "party", "movement", "network", "zone",
              "news", "international", "tv", "guard", "corps", "committee", "government", "region", "house"}


def _could_be_person(token: str) -> bool:
    """A capitalised word that may name a person: not an initial or abbreviation ("U.S.", "CIA"), not a country,
    capital or people ("Which U.S. president ordered the strike that killed him?": "him" is not the U.S.)."""
    return token[:1].isupper() and len(token) > 1 and not token.isupper() and not is_place_word(token)


def _plural_or_name(token: str, position: int) -> bool:
    """A word a plural pronoun can stand for: a plural-looking noun ("militias") or a name not opening the question."""
    low = token.lower()
    if low in _FUNCTION:
        return False
    return (position > 0 and token[:1].isupper()) or (len(low) > 3 and low.endswith("s") and not low.endswith("ss"))


def _person_like(name: str) -> bool:
    """A name that a personal pronoun can stand for: no possessive, no organisation word."""
    parts = name.split()
    return not re.search(r"'s\b", name) and not any(p.lower() in _ORG_WORDS for p in parts) and len(parts) <= 4


_FUNCTION = {
    "what", "who", "whom", "whose", "when", "where", "why", "how", "which", "did", "does", "do", "was", "were",
    "is", "are", "has", "have", "had", "will", "would", "could", "can", "should", "a", "an", "the", "and", "but",
    "so", "then", "about", "of", "to", "in", "on", "for", "with", "say", "said", "tell", "me", "us", "many", "much",
    "also", "else", "any", "there", "be", "been",
}


# A one-word question asks for one more detail of what was just discussed ("Name?", "Why?", "Source?"); a
# one-word name ("Khazali?") asks about that name, so only these words make a fragment a follow-up.
_FRAGMENT_WORDS = {"name", "names", "who", "why", "when", "where", "how", "what", "which", "source", "sources",
                   "age", "title", "role", "date", "details", "evidence", "proof", "reason"}
# Titles as news abbreviates them before a name ("Gen. Esmail Qa'ani" is "the general").
_TITLE_ABBREVIATIONS = {"gen": "general", "lt": "lieutenant", "col": "colonel", "maj": "major", "adm": "admiral",
                        "capt": "captain", "sgt": "sergeant", "sen": "senator", "rep": "representative",
                        "gov": "governor", "amb": "ambassador", "pres": "president", "sec": "secretary"}
ROLE_REACH = 3  # words: "spokesman Saeed Khatibzadeh", "Gen. Esmail Qa'ani", "the militia leader Qais al-Khazali"
_DEFINITE_ROLE = re.compile(r"\b(?:the|that|this)\s+(?P<role>[a-z]+)\b", re.IGNORECASE)


def _fragment(question: str) -> bool:
    tokens = _WORD.findall(question)
    return len(tokens) == 1 and tokens[0].lower() in _FRAGMENT_WORDS


def _points_back(question: str, previous: str) -> bool:
    """'What's the spokesman called?' after a turn about a spokesman: a bare 'the/that' + role noun that the
    previous turn mentions, in a question naming no one, means the same person ("the prime minister" or "the
    Iraqi president" carry their own qualifier and are read as they stand)."""
    if any(j > 0 and _could_be_person(t) for j, t in enumerate(_WORD.findall(question))):
        return False
    mentioned = {_TITLE_ABBREVIATIONS.get(w.lower(), w.lower()) for w in _WORD.findall(previous)}
    return any(m.group("role").lower() in _ROLE_NOUNS and m.group("role").lower() in mentioned
               for m in _DEFINITE_ROLE.finditer(question))


def _role_holder(question: str, previous: str, people: Sequence[str]) -> tuple[str, str] | None:
    """("the general", "Esmail Qa'ani") when the previous turn gives a person that role just before their name
    ("Gen. Esmail Qa'ani", "spokesman Saeed Khatibzadeh"), else None."""
    for m in _DEFINITE_ROLE.finditer(question):
        role = m.group("role").lower()
        if role not in _ROLE_NOUNS:
            continue
        for person in people:
            for found in re.finditer(re.escape(person), previous):
                before = _WORD.findall(previous[: found.start()])[-ROLE_REACH:]
                if any(_TITLE_ABBREVIATIONS.get(w.lower(), w.lower()) == role for w in before):
                    return m.group(0), person
    return None


def is_followup(question: str) -> bool:
    """True when the question cannot be understood without the previous turn (never because it is short)."""
    return _needs_previous(question.strip(), _dangling(question.strip()))


def _needs_previous(question: str, pronoun: str | None, previous: str = "") -> bool:
    return bool(pronoun or _CONTINUATION.match(question) or _ELLIPSIS.search(question) or _fragment(question)
                or (previous and _points_back(question, previous)))


def _substitute(question: str, pronoun: str, name: str) -> str:
    """`question` with its dangling personal pronoun replaced by `name` ("his name" -> "Barzani's name")."""
    low = pronoun.lower()
    repl = f"{name}'s" if low in {"his", "her", "hers", "their", "theirs", "its"} else name
    return re.sub(rf"\b{re.escape(pronoun)}\b", repl, question, count=1)


def resolve(question: str, history: Sequence[Message]) -> Query:
    """The question as it stands alone: follow-ups take their referent from the previous turn, once.

    "What position does he hold?" after a reply naming Nechirvan Barzani becomes "What position does Nechirvan
    Barzani hold?" (its `form`; the `text` retrieved adds the previous question, for the topic). Without a name to
    put in, the previous question is prepended. A question that needs no previous turn ("Was al-Kadhimi hurt?"
    after anything) is returned unchanged, however short.
    """
    typed = question.strip()
    q = _PREFACE.sub("", typed)
    q = q[:1].upper() + q[1:]
    pronoun = _dangling(q)
    last_user = next((i for i in range(len(history) - 1, -1, -1) if history[i].role == "user"), None)
    if last_user is None:
        return Query(asked=typed, text=q, form=q)
    asked = history[last_user].content.strip()
    replies = " ".join(m.content for m in history[last_user + 1 :] if m.role == "assistant")
    if not _needs_previous(q, pronoun, f"{asked} {replies}"):
        return Query(asked=typed, text=q, form=q)
    named = [n for n in names(replies) if n not in asked]
    people = [n for n in [*named, *names(asked)] if _person_like(n)]
    if pronoun and pronoun.lower() in _PERSONAL and people:
        # "And what did he say ...?" -> "What did Qais al-Khazali say ...?": once the referent is in, the
        # continuation word carries nothing and would hide the question's wh-word.
        form = _substitute(_LEADING_CONJUNCTION.sub("", q), pronoun, people[0])
        form = form[:1].upper() + form[1:]
        # The previous question still says what the conversation is about: it travels with the text retrieved.
        return Query(asked=typed, text=f"{form} {asked}", form=form, followup=True, referents=people[:1])
    holder = None if pronoun else _role_holder(q, f"{asked} {replies}", people)
    if holder:
        # "What did the general ask for?" after a reply on Gen. Esmail Qa'ani -> "What did Esmail Qa'ani ask for?"
        form = q.replace(holder[0], holder[1], 1)
        return Query(asked=typed, text=f"{form} {asked}", form=form, followup=True, referents=[holder[1]])
    # "What did their foreign ministry spokesman say?" after "Who did Iran blame?": the previous question, not
    # the names in its answer, says whose.
    return Query(asked=typed, text=f"{asked} {q}", form=q, followup=True)
