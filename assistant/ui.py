"""The Gradio chat UI: answers stream in, their cited sources sit beside them, and `/ask` serves programs."""

from __future__ import annotations

import html
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no phoning home

import gradio as gr  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from .core import IndexStatus  # noqa: E402
from .corpus import read_corpus  # noqa: E402
from .errors import AssistantError, InvalidQuestionError  # noqa: E402
from .indexing import Progress  # noqa: E402
from .models import Answer, Citation, Document, IndexReport, Message  # noqa: E402
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = ("Who did Iran blame?", "How many drones were used?", "Was al-Kadhimi hurt?")
SEARCHING = "_Searching the articles…_"
NOT_FOUND_HINT = "_No indexed article answers this. Try other words, or add articles to corpus/ and re-index._"
NO_SOURCES = '<p class="nd-empty">Sources for the answer appear here: ask a question or pick an example.</p>'
MAX_TURNS = 10  # turns sent as history; follow-ups only look back one question anyway
CONTEXT_CHARS = 220  # shown either side of a quote, within its paragraph
_MARKER = re.compile(r"\[(\d+)\]")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~$])")


class Backend(Protocol):
    """What the UI needs from the Assistant."""

    settings: Settings

    def ask(self, question: str, history: Sequence[Message] | None = None) -> Answer:
        """Answer a question, citing the articles."""
        ...

    def status(self) -> IndexStatus:
        """What is indexed."""
        ...

    def index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Bring the index up to date with the corpus folder."""
        ...


class Turn(BaseModel):
    """One question of a session and its answer (None when it failed)."""

    question: str
    answer: Answer | None = None


def history_of(turns: Sequence[Turn]) -> list[Message]:
    """The chat messages the Assistant sees: answered turns only, most recent MAX_TURNS."""
    messages: list[Message] = []
    for t in turns[-MAX_TURNS:]:
        if t.answer is not None:
            messages += [Message(role="user", content=t.question), Message(role="assistant", content=t.answer.text)]
    return messages


class ArticleLibrary:
    """The cleaned articles of the corpus by source id, re-read when the folder changes."""

    def __init__(self, corpus_dir: Path) -> None:
        self.corpus_dir = corpus_dir
        self._docs: dict[str, Document] = {}
        self._fingerprint: tuple[tuple[str, int, int], ...] | None = None
        self._lock = threading.Lock()

    def _current(self) -> tuple[tuple[str, int, int], ...]:
        try:
            return tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in self.corpus_dir.iterdir()))
        except OSError:
            return ()

    def get(self, source_id: str) -> Document | None:
        """The cleaned article, or None if it is no longer in the corpus."""
        with self._lock:
            fingerprint = self._current()
            if fingerprint != self._fingerprint:
                try:
                    docs, _ = read_corpus(self.corpus_dir)
                except AssistantError:
                    docs = []
                self._docs = {d.source_id: d for d in docs}
                self._fingerprint = fingerprint
            return self._docs.get(source_id)


# ---- rendering (pure functions: everything from the articles is escaped) ----


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
        f'<article class="nd-source" id="{anchor(turn, citation.marker)}">'
        f'<div class="nd-head"><span class="nd-marker">[{citation.marker}]</span>'
        f'<div><div class="nd-title">{title}</div>{meta_html}</div></div>'
        f'<blockquote class="nd-context">{context}</blockquote>{full}</article>'
    )


def sources_html(answer: Answer | None, turn: int, library: ArticleLibrary) -> str:
    """The sources panel for one answer."""
    if answer is None:
        return NO_SOURCES
    if not answer.found or not answer.citations:
        return '<p class="nd-empty nd-notfound">No source: the articles don\'t answer this question.</p>'
    cards = "".join(source_card(c, library.get(c.source_id), turn) for c in answer.citations)
    return f'<div class="nd-sources-list"><h3 class="nd-heading">Sources</h3>{cards}</div>'


def answer_markdown(answer: Answer, turn: int) -> str:
    """The answer as chat Markdown: article text escaped, each [n] a link to its source card."""
    if not answer.found:
        return f"{_escape_md(answer.text)}\n\n{NOT_FOUND_HINT}"
    markers = {c.marker for c in answer.citations}
    lines = []
    for line in answer.text.split("\n"):
        bullet = "- " if line.startswith("- ") else ""
        parts = _MARKER.split(line[len(bullet) :])
        out = []
        for i, part in enumerate(parts):
            if i % 2 == 0:
                out.append(_escape_md(part))
            elif int(part) in markers:
                out.append(f"[\\[{part}\\]](#{anchor(turn, int(part))})")
            else:
                out.append(f"\\[{part}\\]")
        lines.append(bullet + "".join(out))
    return "\n".join(lines)


def _escape_md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def status_markdown(backend: Backend) -> str:
    """The status line: what is indexed and which answerer is in use (or what is wrong)."""
    try:
        s = backend.status()
    except AssistantError as exc:
        return f"⚠️ {exc}"
    except Exception:  # the page must still load; the details go to the server log
        log.exception("status failed")
        return "⚠️ The index could not be opened: see the server log."
    articles = "article" if s.documents == 1 else "articles"
    return f"**{s.documents}** {articles} · **{s.chunks}** chunks indexed · answerer: **{s.generator}**"


def report_markdown(report: IndexReport) -> str:
    """What a re-index did, with every skipped file and why."""
    text = (
        f"Re-indexed in {report.seconds:.1f}s: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped."
    )
    skipped = "".join(f"\n- skipped `{s.path}`: {_escape_md(s.reason)}" for s in report.skipped)
    return text + skipped


def _notice(message: str) -> str:
    return f'<div class="nd-notice" role="alert">⚠️ {html.escape(message)}</div>' if message else ""


# ---- the app ----


CSS = """
#nd-status p { margin: 0; }
#nd-status { align-self: center; }
.nd-notice { border: 1px solid var(--error-border-color, #ef4444); background: var(--error-background-fill, #fef2f2);
  color: var(--error-text-color, #b91c1c); border-radius: 8px; padding: 8px 12px; }
.nd-empty { color: var(--body-text-color-subdued); margin: 8px 0; }
.nd-heading { margin: 0 0 8px 0; font-size: var(--text-lg); }
.nd-source { border: 1px solid var(--block-border-color); border-radius: 10px; padding: 10px 12px; margin: 0 0 10px 0;
  background: var(--block-background-fill); scroll-margin-top: 12px; overflow-wrap: anywhere; }
.nd-source:target { outline: 2px solid var(--color-accent); }
.nd-head { display: flex; gap: 8px; align-items: baseline; }
.nd-marker { font-weight: 700; color: var(--color-accent); }
.nd-title { font-weight: 600; }
.nd-meta { color: var(--body-text-color-subdued); font-size: var(--text-sm); }
.nd-context { margin: 8px 0; padding: 6px 10px; border-left: 3px solid var(--color-accent);
  background: var(--background-fill-secondary); font-size: var(--text-md); line-height: 1.5; }
.nd-source mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 2px; }
.nd-full summary { cursor: pointer; color: var(--link-text-color); font-size: var(--text-sm); }
.nd-article { max-height: 420px; overflow-y: auto; margin-top: 6px; font-size: var(--text-sm); line-height: 1.5; }
.nd-article p { margin: 0 0 8px 0; }
#nd-examples { flex-wrap: wrap; gap: 6px; }
#nd-examples button { flex: 0 1 auto; min-width: 0; }
"""

THEME = gr.themes.Soft(
    # System fonts: the default theme fetches Google Fonts, and this app must work offline.
    font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
    font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "monospace"),
)


def build_ui(backend: Backend, *, stream_delay: float = 0.02) -> gr.Blocks:
    """The chat UI around `backend`; per-session state keeps each visitor's conversation apart."""
    library = ArticleLibrary(backend.settings.corpus_dir)

    def respond(question: str, chat: list[Any], turns: list[Turn]) -> Iterator[tuple[Any, ...]]:
        question = question or ""
        chat = list(chat or [])
        turn = len(turns)
        pending = bool(question.strip())
        if pending:  # show the question at once; the answer follows
            yield [*chat, _msg("user", question), _msg("assistant", SEARCHING)], gr.skip(), turns, "", ""
        try:
            answer = backend.ask(question, history_of(turns))
        except InvalidQuestionError as exc:  # give the text back so it can be fixed
            yield chat, gr.skip(), turns, _notice(str(exc)), question
            return
        except AssistantError as exc:
            failed = [*chat, _msg("user", question), _msg("assistant", f"⚠️ {_escape_md(str(exc))}")]
            yield failed, NO_SOURCES, [*turns, Turn(question=question)], "", ""
            return
        except Exception:
            log.exception("answering %r failed", question)
            text = "⚠️ Something went wrong while answering; the details are in the server log."
            failed = [*chat, _msg("user", question), _msg("assistant", text)]
            yield failed, NO_SOURCES, [*turns, Turn(question=question)], "", ""
            return
        turns = [*turns, Turn(question=question.strip(), answer=answer)]
        panel = sources_html(answer, turn, library)
        shown = ""
        for piece in re.findall(r"\S+\s*", answer_markdown(answer, turn)):
            shown += piece
            yield [*chat, _msg("user", question), _msg("assistant", shown)], panel, turns, "", ""
            time.sleep(stream_delay)

    def show_sources(turns: list[Turn], evt: gr.SelectData) -> str:
        """Clicking an earlier answer brings its sources back into the panel."""
        index = evt.index if isinstance(evt.index, int) else (evt.index or [0])[0]
        turn = int(index) // 2
        return sources_html(turns[turn].answer if 0 <= turn < len(turns) else None, turn, library)

    def ask_api(question: str, turns: list[Turn]) -> tuple[dict[str, Any], list[Turn]]:
        """Answer a question as JSON; follow-ups in the same client session see the earlier questions."""
        try:
            answer = backend.ask(question, history_of(turns))
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return answer.model_dump(), [*turns, Turn(question=question.strip(), answer=answer)]

    def reindex(progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008 (gradio's idiom)
        def on_article(source_id: str, done: int, total: int) -> None:
            progress((done, total), desc=f"Embedding {source_id}", unit="articles")

        progress(0, desc="Reading corpus/")
        try:
            report = backend.index(progress=on_article)
        except AssistantError as exc:
            return status_markdown(backend), _notice(str(exc))
        return status_markdown(backend), report_markdown(report)

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as demo:
        gr.Markdown("## newsdesk\nAsk about the news articles in `corpus/`. Every answer quotes the articles it comes "
                    "from; click a marker like [1] to see the passage in context.")
        with gr.Row(equal_height=True):
            status = gr.Markdown("Loading the index… (the first run builds it, which takes a little while)",
                                 elem_id="nd-status")
            reindex_btn = gr.Button("Re-index corpus/", size="sm", scale=0, min_width=150, variant="secondary")
        report = gr.Markdown("", elem_id="nd-report")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chatbot = gr.Chatbot(label="Conversation", height="min(62vh, 640px)", min_height=300,
                                     buttons=["copy"], feedback_options=None, elem_id="nd-chat",
                                     placeholder="Ask a question about the articles, or pick an example below.")
                notice = gr.HTML("", elem_id="nd-notice")
                question = gr.Textbox(show_label=False, placeholder="Ask about the articles…", submit_btn="Ask",
                                      lines=1, max_lines=4, autofocus=True, elem_id="nd-question")
                with gr.Row(elem_id="nd-examples"):
                    examples = [gr.Button(q, size="sm", variant="secondary", scale=0) for q in EXAMPLES]
                    clear = gr.Button("New conversation", size="sm", variant="stop", scale=0)
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(NO_SOURCES, elem_id="nd-sources")
        turns = gr.State([])
        # The JSON endpoint for programs: gradio_client.Client(url).predict("...", api_name="/ask").
        api_question = gr.Textbox(visible=False, label="question")
        api_answer = gr.JSON(visible=False, label="answer")
        api_trigger = gr.Button(visible=False)

        outputs = [chatbot, sources, turns, notice, question]
        private: dict[str, Any] = {"api_visibility": "private"}
        question.submit(respond, [question, chatbot, turns], outputs, **private)
        for button in examples:  # a button's value is its label: the example question
            button.click(respond, [button, chatbot, turns], outputs, **private)
        clear.click(lambda: ([], NO_SOURCES, [], "", ""), None, outputs, queue=False, **private)
        chatbot.select(show_sources, [turns], sources, **private)
        reindex_btn.click(reindex, None, [status, report], show_progress_on=[report], **private)
        api_trigger.click(ask_api, [api_question, turns], [api_answer, turns], api_name="ask")
        demo.load(lambda: status_markdown(backend), None, status, **private)
    return demo


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


def warm_up(backend: Backend) -> None:
    """Load the model and open (or build) the index so the first question does not wait; errors are logged."""
    try:
        backend.status()
    except Exception as exc:  # the UI reports the same problem on the status line
        log.warning("warm-up: %s", exc)


def launch(backend: Backend, *, host: str, port: int, share: bool = False, block: bool = True) -> gr.Blocks:
    """Serve the UI on host:port; `block=False` returns once the server is up (for tests)."""
    demo = build_ui(backend)
    demo.queue(default_concurrency_limit=4)  # several visitors at once; Assistant.ask is thread-safe
    demo.launch(server_name=host, server_port=port, share=share, theme=THEME, css=CSS,
                footer_links=["api", "settings"], prevent_thread_lock=not block, show_error=False)
    return demo
