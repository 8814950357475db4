"""Scorers: each judges one thing about an answer (or a ranking) and says pass or fail, and why.

A scorer returns None when it does not apply (e.g. citation precision of an answer that cites nothing), so a
rate is never inflated by questions that could not have failed it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from ..corpus import SUFFIXES
from ..models import Answer, Passage
from ..text import flatten
from .gold import GoldQuestion


class Check(BaseModel):
    """The verdict of one scorer on one answer."""

    name: str
    passed: bool
    reason: str
    value: float = Field(default=-1.0, description="Score in [0, 1] averaged into the metric; 1/0 by `passed`.")

    @model_validator(mode="after")
    def _default_value(self) -> Check:
        if self.value < 0:
            self.value = 1.0 if self.passed else 0.0
        return self


def _short(text: str, limit: int = 80) -> str:
    text = flatten(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def fact_recall(answer: Answer, gold: GoldQuestion) -> Check | None:
    """Every required fact (any of its regex alternatives) appears in the answer text."""
    if not gold.facts:
        return None
    text = flatten(answer.text)
    missing = [alts for alts in gold.facts if not any(_search(p, text) for p in alts)]
    if not missing:
        return Check(name="fact_recall", passed=True, reason=f"all {len(gold.facts)} facts present")
    shown = "; ".join(" | ".join(alts) for alts in missing)
    return Check(name="fact_recall", passed=False, reason=f"missing {len(missing)} of {len(gold.facts)} facts: {shown}")


def lead_holds_fact(answer: Answer, gold: GoldQuestion) -> bool | None:
    """Whether the answer's direct answer (its lead) states one of the gold facts; None when there is no direct
    answer to judge (no lead, a 'Sources differ' lead, or no gold facts). Reported, not gated."""
    if not answer.lead or answer.lead.startswith("Sources differ") or not gold.facts:
        return None
    lead = flatten(answer.lead)
    return any(_search(p, lead) for alts in gold.facts for p in alts)


def differ_holds_facts(answer: Answer, gold: GoldQuestion) -> bool | None:
    """Whether every quote an answer cites for a side where 'Sources differ' states one of the gold facts: a quote
    put forward as saying "yes", "three" or "militias" must say something the question's facts accept, not merely
    share its topic. None when the answer shows no disagreement or the question has no facts. Reported, not
    gated."""
    if not answer.disagreements or not gold.facts:
        return None
    quotes = {c.marker: flatten(c.quote) for c in answer.citations}
    markers = [m for d in answer.disagreements for p in d.positions for m in p.markers]
    return all(any(_search(p, quotes.get(m, "")) for alts in gold.facts for p in alts) for m in markers)


def nearest_holds_fact(answer: Answer, gold: GoldQuestion) -> bool | None:
    """Whether a refusal of an answerable question points to a passage stating one of its gold facts (among the
    closest passages shown with it); None for found answers and questions without gold facts. Reported, not gated:
    a refusal is still a refusal."""
    if answer.found or not gold.facts:
        return None
    return any(_search(p, flatten(c.quote)) for c in answer.nearest for alts in gold.facts for p in alts)


def sides_cited(answer: Answer, gold: GoldQuestion) -> Check | None:
    """A disputed question: each side (fact) is in a cited quote, so it is cited to an article that says it."""
    if gold.kind != "disputed" or not gold.facts:
        return None
    quotes = [flatten(c.quote) for c in answer.citations]
    missing = [alts for alts in gold.facts if not any(_search(p, q) for p in alts for q in quotes)]
    share = 1 - len(missing) / len(gold.facts)
    if not missing:
        return Check(name="sides_cited", passed=True, reason=f"each of {len(gold.facts)} sides is in a cited quote")
    shown = "; ".join(" | ".join(alts) for alts in missing)
    return Check(name="sides_cited", passed=False, value=share,
                 reason=f"{len(missing)} of {len(gold.facts)} sides in no cited quote: {shown}")


def forbidden(answer: Answer, gold: GoldQuestion) -> Check | None:
    """No forbidden claim (regex) appears in the answer text."""
    if not gold.forbidden:
        return None
    text = flatten(answer.text)
    hits = [p for p in gold.forbidden if _search(p, text)]
    if hits:
        return Check(name="forbidden", passed=False, reason=f"states a forbidden claim: {' | '.join(hits)}")
    return Check(name="forbidden", passed=True, reason=f"none of {len(gold.forbidden)} forbidden claims")


def citation_precision(answer: Answer, gold: GoldQuestion) -> Check | None:
    """Every cited source is one that supports the question's facts (is in `sources`)."""
    if not gold.answerable or not answer.citations:
        return None
    cited = list(dict.fromkeys(c.source_id for c in answer.citations))
    wrong = [s for s in cited if s not in gold.sources]
    if wrong:
        return Check(
            name="citation_precision",
            passed=False,
            reason=f"cites {', '.join(wrong)}, which the gold set does not list as supporting the answer",
        )
    return Check(name="citation_precision", passed=True, reason=f"all {len(cited)} cited sources support it")


def citation_recall(answer: Answer, gold: GoldQuestion) -> Check | None:
    """At least one of the expected sources is cited."""
    if not gold.answerable:
        return None
    cited = {c.source_id for c in answer.citations}
    expected = sorted(cited & set(gold.sources))
    if expected:
        return Check(name="citation_recall", passed=True, reason=f"cites {', '.join(expected)}")
    reason = "cites nothing" if not cited else f"cites only {', '.join(sorted(cited))}"
    return Check(name="citation_recall", passed=False, reason=f"{reason}; expected one of {', '.join(gold.sources)}")


class SourceFiles:
    """The corpus files by source id, flattened once and cached, to check quotes against."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._texts: dict[str, str | None] = {}

    def text(self, source_id: str) -> str | None:
        """The flattened text of `<corpus_dir>/<source_id>.txt` or `.md`, or None when there is no such file."""
        if source_id not in self._texts:
            paths = [self.corpus_dir / f"{source_id}{ext}" for ext in SUFFIXES]
            found = next((p for p in paths if p.is_file()), None)
            self._texts[source_id] = flatten(found.read_text(encoding="utf-8-sig")) if found else None
        return self._texts[source_id]


def quote_exactness(answer: Answer, sources: SourceFiles) -> Check | None:
    """Every citation's quote occurs verbatim (after `flatten`) in the file of the source it names."""
    if not answer.citations:
        return None
    bad: list[str] = []
    for c in answer.citations:
        quote = flatten(c.quote)
        text = sources.text(c.source_id)
        if not quote:
            bad.append(f"[{c.marker}] has an empty quote")
        elif text is None:
            bad.append(f"[{c.marker}] names {c.source_id}, which has no file in {sources.corpus_dir}")
        elif quote not in text:
            bad.append(f'[{c.marker}] "{_short(quote)}" is not in {c.source_id}')
    if bad:
        return Check(name="quote_exactness", passed=False, reason="; ".join(bad))
    return Check(name="quote_exactness", passed=True, reason=f"all {len(answer.citations)} quotes verbatim")


def refusal(answer: Answer, gold: GoldQuestion) -> Check | None:
    """An unanswerable or noise question gets 'not found' (found=False) and cites nothing."""
    if gold.answerable:
        return None
    if answer.found or answer.citations:
        what = "answered" if answer.found else "refused but still cited sources"
        return Check(
            name="refusal_accuracy", passed=False, reason=f"{what} ({len(answer.citations)} citations): "
            f"{_short(answer.text)}"
        )
    return Check(name="refusal_accuracy", passed=True, reason="refused, nothing cited")


def answered(answer: Answer, gold: GoldQuestion) -> Check | None:
    """An answerable question is not refused (a false refusal fails)."""
    if not gold.answerable:
        return None
    if not answer.found or not answer.citations:
        return Check(name="answered", passed=False, reason="false refusal: the corpus answers this question")
    return Check(name="answered", passed=True, reason=f"answered with {len(answer.citations)} citations")


def ranked_sources(passages: Sequence[Passage]) -> list[str]:
    """Distinct source ids of a ranking, in order of first appearance."""
    return list(dict.fromkeys(p.source_id for p in passages))


def retrieval_recall(ranked: Sequence[str], relevant: Collection[str], k: int) -> Check | None:
    """Fraction of the relevant sources among the top `k` ranked ones; passes when all are there."""
    if not relevant:
        return None
    found = set(ranked[:k]) & set(relevant)
    value = len(found) / len(set(relevant))
    missing = sorted(set(relevant) - found)
    reason = f"{len(found)} of {len(set(relevant))} sources in the top {k}" + (
        f"; missing {', '.join(missing)}" if missing else ""
    )
    return Check(name="retrieval_recall", passed=not missing, reason=reason, value=value)


def hit_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> Check | None:
    """At least one relevant source among the top `k` ranked ones."""
    if not relevant:
        return None
    top = list(ranked[:k])
    hit = next((s for s in top if s in relevant), None)
    if hit is None:
        return Check(name=f"recall@{k}", passed=False, reason=f"no relevant source in the top {k}")
    return Check(name=f"recall@{k}", passed=True, reason=f"{hit} at rank {top.index(hit) + 1}")


def first_rank(ranked: Sequence[str], relevant: Collection[str]) -> int | None:
    """1-based rank of the first relevant entry, or None when there is none."""
    return next((i for i, s in enumerate(ranked, start=1) if s in relevant), None)


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str]) -> Check | None:
    """1/rank of the first relevant entry (0 when none); passes when it is ranked first."""
    if not relevant:
        return None
    rank = first_rank(ranked, relevant)
    if rank is None:
        return Check(name="mrr", passed=False, reason=f"no relevant source in {len(ranked)} retrieved", value=0.0)
    return Check(name="mrr", passed=rank == 1, reason=f"first relevant at rank {rank}", value=1.0 / rank)


def contains_answer(text: str, answers: Sequence[str]) -> str | None:
    """The first gold answer string found in `text` (case-insensitive, word-bounded), or None."""
    flat = flatten(text)
    for gold in answers:
        g = flatten(gold)
        if g and re.search(rf"(?<!\w){re.escape(g)}(?!\w)", flat, re.IGNORECASE):
            return gold
    return None


def answer_accuracy(answer: Answer, answers: Sequence[str], evidence: Collection[str]) -> Check:
    """A gold answer string is in the answer text and a cited source is an evidence document."""
    found = contains_answer(answer.text, answers) if answer.found else None
    cited = {c.source_id for c in answer.citations}
    problems = []
    if not answer.found:
        problems.append("refused")
    elif found is None:
        problems.append(f"no gold answer ({' | '.join(answers)}) in the answer")
    if answer.found and not cited & set(evidence):
        problems.append("no evidence document cited")
    if problems:
        return Check(name="accuracy", passed=False, reason="; ".join(problems))
    return Check(name="accuracy", passed=True, reason=f"states {found!r}, cites evidence")
