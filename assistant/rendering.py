"""HTML and Markdown for answers and their sources: quotes highlighted in the cleaned article, all text escaped."""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path

from .corpus import read_corpus
from .errors import AssistantError
from .models import Answer, Citation, Document

NOT_FOUND_HINT = "_No indexed article answers this. Try other words, or add articles to corpus/ and re-index._"
NEAREST_HEADING = "Closest passages (they may not answer the question):"
NEAREST_HINT = ("_No passage answers this clearly. The closest ones are with the sources, to judge for yourself; "
                "or try other words._")
NO_SOURCES = '<p class="nd-empty">Sources for the answer appear here: ask a question or pick an example.</p>'
CONTEXT_CHARS = 220  # shown either side of a quote, within its paragraph
_MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


def _stamp(path: Path) -> tuple[int, int]:
    """Modification time and size of a corpus entry; a link that leads nowhere is stamped as the link itself."""
    try:
        st = path.stat()
    except OSError:
        try:
            st = path.lstat()
        except OSError:
            return (0, 0)
    return (st.st_mtime_ns, st.st_size)


class ArticleLibrary:
    """The cleaned articles of the corpus by source id, re-read when the folder changes."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._docs: dict[str, Document] = {}
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._lock = threading.Lock()

    def _current(self) -> tuple[tuple[str, int, int], ...]:
        try:
            entries = list(self.corpus_dir.iterdir())
        except OSError:
            return ()
        return tuple(sorted((p.name, *_stamp(p)) for p in entries))

    def get(self, source_id: str) -> Document | None:
        """The cleaned article, or None if it is no longer in the corpus."""
        return self._all().get(source_id)

    def documents(self) -> list[Document]:
        """Every article of the corpus, by source id."""
        return [d for _, d in sorted(self._all().items())]

    def _all(self) -> dict[str, Document]:
        with self._lock:
            fingerprint = self._current()
            if fingerprint != self._fingerprint:
                try:
                    docs, _ = read_corpus(self.corpus_dir)
                except AssistantError:
                    docs = []
                self._docs = {d.source_id: d for d in docs}
                self._fingerprint = fingerprint
            return self._docs


def collection_markdown(docs: list[Document], shown: int = 8) -> str:
    """What the collection is, for a reader: how many articles, from which outlets, when, and their headlines."""
    if not docs:
        return "**No articles yet.** Add .txt or .md articles to the corpus folder, then re-index (under Settings)."
    outlets = sorted({d.outlet for d in docs if d.outlet})
    unnamed = sum(1 for d in docs if not d.outlet)
    sources = ", ".join(outlets) + (f" and {unnamed} other source{'s' if unnamed > 1 else ''}" if unnamed else "")
    dates = sorted({d.date for d in docs if d.date})
    when = f", dated {dates[0]}" + (f" to {dates[-1]}" if len(dates) > 1 else "") if dates else ""
    noun = "article" if len(docs) == 1 else "articles"
    lines = [f"**The collection:** {len(docs)} {noun} from {escape_md(sources)}{escape_md(when)}.", "",
             # Folded: open, the headlines would push the question box below the fold on a laptop or a phone.
             "<details><summary>The headlines</summary>", ""]
    lines += [f"- {escape_md(d.title)}" + (f" _({escape_md(d.outlet)})_" if d.outlet else "") for d in docs[:shown]]
    if len(docs) > shown:
        lines.append(f"- … and {len(docs) - shown} more")
    return "\n".join([*lines, "", "</details>"])


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The span of `quote` in `text`, tolerant of line breaks and spacing; None if absent."""
    words = quote.split()
    if not words:
        return None
    match = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return (match.start(), match.end()) if match else None


def _marked(text: str, start: int, end: int) -> str:
    """`text` escaped, with [start, end) wrapped in <mark>."""
    start, end = max(0, start), min(len(text), end)
    if start >= end:
        return html.escape(text)
    return f"{html.escape(text[:start])}<mark>{html.escape(text[start:end])}</mark>{html.escape(text[end:])}"


def quote_in_context(text: str, span: tuple[int, int], chars: int = CONTEXT_CHARS) -> str:
    """HTML of the quote highlighted inside its paragraph, trimmed to about `chars` on either side."""
    start, end = span
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    right = len(text) if right < 0 else right
    if start - left > chars:
        cut = text.find(" ", start - chars, start)
        left = cut + 1 if cut >= 0 else start - chars
    if right - end > chars:
        cut = text.rfind(" ", end, end + chars)
        right = cut if cut >= 0 else end + chars
    before = "…" if left > 0 and text[left - 1] != "\n" else ""
    after = "…" if right < len(text) and text[right] != "\n" else ""
    piece = text[left:right].replace("\n", " ")
    return before + _marked(piece, start - left, end - left) + after


def article_html(text: str, span: tuple[int, int] | None) -> str:
    """The whole cleaned article as paragraphs, the quoted span highlighted."""
    paragraphs = []
    offset = 0
    for para in text.split("\n"):
        lo, hi = offset, offset + len(para)
        if span and span[0] < hi and span[1] > lo:
            body = _marked(para, span[0] - lo, span[1] - lo)
        else:
            body = html.escape(para)
        paragraphs.append(f"<p>{body}</p>")
        offset = hi + 1
    return "".join(paragraphs)


def anchor(turn: int, marker: int) -> str:
    """The element id of a source card, unique within a session's conversation."""
    return f"nd-src-{turn}-{marker}"


def source_card(citation: Citation, doc: Document | None, turn: int) -> str:
    """One cited source: title, outlet and date, the quote in context, and the full article to open."""
    title = html.escape(citation.title)
    if doc is not None and doc.url and doc.url.startswith(("http://", "https://")):
        title = f'<a href="{html.escape(doc.url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
    meta = [html.escape(m) for m in (citation.outlet, doc.date if doc else None) if m]
    meta_html = f'<div class="nd-meta">{" · ".join(meta)}</div>' if meta else ""
    if citation.speaker:  # whose claim the quote is: not the outlet's when it reports someone
        meta_html += f'<div class="nd-meta nd-speaker">Claim by {html.escape(citation.speaker)}</div>'
    span = find_quote(doc.text, citation.quote) if doc is not None else None
    if doc is not None and span is not None:
        context = quote_in_context(doc.text, span)
    else:  # the article changed or left the corpus since indexing: the quote is all we have
        context = f"<mark>{html.escape(citation.quote)}</mark>"
    full = (
        f'<details class="nd-full"><summary>Open the full article</summary>'
        f'<div class="nd-article">{article_html(doc.text, span)}</div></details>'
        if doc is not None
        else '<p class="nd-meta">The full article is no longer in corpus/.</p>'
    )
    return (
        f'<article class="nd-source" id="{anchor(turn, citation.marker)}" tabindex="-1">'
        f'<div class="nd-head"><span class="nd-marker">[{citation.marker}]</span>'
        f'<div><div class="nd-title">{title}</div>{meta_html}</div></div>'
        f'<blockquote class="nd-context">{context}</blockquote>{full}'
        # On a phone the sources sit under the chat: a way back up to the answer after following a marker.
        f'<a class="nd-back" href="#nd-chat">Back to the answer</a></article>'
    )


def sources_html(answer: Answer | None, turn: int, library: ArticleLibrary) -> str:
    """The sources panel for one answer."""
    if answer is None:
        return NO_SOURCES
    if not answer.found or not answer.citations:
        if not answer.nearest:
            return ('<p class="nd-empty nd-notfound">No source: the articles don\'t answer this question.</p>'
                    + dropped_html(answer))
        cards = "".join(source_card(c, library.get(c.source_id), turn) for c in answer.nearest)
        return ('<p class="nd-empty nd-notfound">No source answers this question clearly.</p>'
                f'<div class="nd-sources-list nd-nearest"><h3 class="nd-heading">{html.escape(NEAREST_HEADING)}</h3>'
                f"{cards}</div>{dropped_html(answer)}")
    cards = "".join(source_card(c, library.get(c.source_id), turn) for c in answer.citations)
    return (f'{differ_html(answer, turn)}<div class="nd-sources-list"><h3 class="nd-heading">Sources</h3>{cards}'
            f"</div>{dropped_html(answer)}")


def dropped_html(answer: Answer) -> str:
    """What verification removed from a language model's draft, folded away."""
    if not answer.dropped:
        return ""
    items = "".join(f"<li>{html.escape(d)}</li>" for d in answer.dropped)
    return (f'<details class="nd-dropped"><summary>{len(answer.dropped)} removed: not supported by the sources'
            f"</summary><ul>{items}</ul></details>")


def differ_html(answer: Answer, turn: int) -> str:
    """Where the cited sources disagree: the point, then each side with links to the cards that state it."""
    if not answer.disagreements:
        return ""
    blocks = []
    for d in answer.disagreements:
        sides = "".join(
            f'<li><span class="nd-side">{html.escape(p.claim)}</span> '
            + " ".join(f'<a href="#{anchor(turn, m)}" class="nd-marker">[{m}]</a>' for m in p.markers)
            + "</li>"
            for p in d.positions
        )
        blocks.append(f'<p class="nd-point">{html.escape(d.point)}</p><ul>{sides}</ul>')
    return (f'<section class="nd-differ" aria-label="Where the sources differ"><h3 class="nd-heading">'
            f'Where the sources differ</h3>{"".join(blocks)}</section>')


def answer_markdown(answer: Answer, turn: int) -> str:
    """The answer as chat Markdown: article text escaped, each [n] a link to its source card."""
    notes = "".join(f"\n\n_{escape_md(n)}_" for n in answer.notes)
    if not answer.found:
        return f"{escape_md(answer.text)}\n\n{NEAREST_HINT if answer.nearest else NOT_FOUND_HINT}{notes}"
    return _cited_markdown(answer, turn) + notes


def _cited_markdown(answer: Answer, turn: int) -> str:
    markers = {c.marker for c in answer.citations}
    lines: list[str] = []
    for line in answer.text.split("\n"):
        bullet = "- " if line.startswith("- ") else ""
        parts = _MARKER.split(line[len(bullet) :])
        out = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                out.append(escape_md(part))
            elif int(part) in markers:
                out.append(f"[\\[{part}\\]](#{anchor(turn, int(part))})")
            else:
                out.append(f"\\[{part}\\]")
        if not bullet and lines and lines[-1].startswith("- "):
            lines.append("")  # a line after a list is its own paragraph, not part of the last item
        lines.append(bullet + "".join(out))
    return "\n".join(lines)


def escape_md(text: str) -> str:
    """Text shown literally in Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", text)
