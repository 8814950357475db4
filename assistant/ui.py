"""The Gradio chat UI: answers stream in, their cited sources sit beside them, and `/ask` serves programs."""

from __future__ import annotations

import html
import logging
import os
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no phoning home

import gradio as gr  # noqa: E402
from pydantic import BaseModel  # noqa: E402

from . import lexicon, tagging  # noqa: E402
from .core import IndexStatus  # noqa: E402
from .errors import AssistantError, InvalidQuestionError  # noqa: E402
from .indexing import Progress  # noqa: E402
from .models import Answer, IndexReport, Message  # noqa: E402
from .rendering import (  # noqa: E402
    NO_SOURCES,
    ArticleLibrary,
    answer_markdown,
    collection_markdown,
    escape_md,
    sources_html,
)
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

EXAMPLES = ("Who did Iran blame?", "How many drones were used?", "Was al-Kadhimi hurt?")
SEARCHING = "_Searching the articles…_"
DRAFTING = "_Drafting with the language model; every sentence is checked against the articles before it stays…_"
STREAM_STEPS = 30  # an answer streams in at most this many pieces
MAX_UPLOAD_BYTES = 1024  # the app takes no uploads; gradio serves an upload route anyway, so it is capped
# README "Speed": `python app.py` to its first answer took 14.4 s with no index, 12.7 s with one (2-core CPU).
TYPICAL_START = "on a 2-core CPU the first answer comes about 15 s after start"
MAX_TURNS = 10  # turns sent as history; follow-ups only look back one question anyway


class Backend(Protocol):
    """What the UI needs from the Assistant."""

    settings: Settings

    def ask(self, question: str, history: Sequence[Message] | None = None, *, by_source: bool = False) -> Answer:
        """Answer a question, citing the articles (source by source when `by_source`)."""
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
    # A file name is shown as text: inside a code span a backtick in the name would end the span.
    skipped = "".join(f"\n- skipped {escape_md(s.path)}: {escape_md(s.reason)}" for s in report.skipped)
    repaired = "".join(f"\n- repaired: {escape_md(r)}" for r in report.repaired)
    return text + repaired + skipped


_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.@+-]+/)*([\w.@+-]+)/?")


def public_message(message: str) -> str:
    """An error message for remote callers: a server path is shown by its last part ("corpus/"), never whole."""
    return _ABSOLUTE_PATH.sub(lambda m: f"{m.group(1)}/" if m.group(0).endswith("/") or "." not in m.group(1)
                              else m.group(1), message)


def _notice(message: str) -> str:
    return f'<div class="nd-notice" role="alert">⚠️ {html.escape(message)}</div>' if message else ""


# ---- the app ----


CSS = """
/* Text colours that meet WCAG AA (4.5:1) on the theme's light and dark backgrounds (checked by axe-core in the
   browser tests); the theme's own accent and subdued grey are lighter than that. */
:root { --nd-accent: #4338ca; --nd-subdued: #4b5563; }
.dark { --nd-accent: #a5b4fc; --nd-subdued: #9ca3af; }
#nd-question [data-testid="block-info"] { color: var(--nd-accent); }
.dark #nd-question [data-testid="block-info"] { color: #ffffff; }
footer .show-api, footer .settings { color: var(--nd-subdued); }
#nd-status p { margin: 0; }
#nd-status { align-self: center; }
#nd-notice:not(:has(.nd-notice)) { display: none; }  /* no gap under the chat when there is nothing to say */
.nd-notice { border: 1px solid var(--error-border-color, #ef4444); background: var(--error-background-fill, #fef2f2);
  color: var(--error-text-color, #b91c1c); border-radius: 8px; padding: 8px 12px; }
.nd-empty { color: var(--nd-subdued); margin: 8px 0; }
.nd-heading { margin: 0 0 8px 0; font-size: var(--text-lg); }
.nd-source { border: 1px solid var(--block-border-color); border-radius: 10px; padding: 10px 12px; margin: 0 0 10px 0;
  background: var(--block-background-fill); scroll-margin-top: 12px; overflow-wrap: anywhere; }
.nd-source:target { outline: 2px solid var(--color-accent); }
.nd-head { display: flex; gap: 8px; align-items: baseline; }
.nd-marker, #nd-chat a { flex: none; white-space: nowrap; font-weight: 700; color: var(--nd-accent); }
.nd-title { font-weight: 600; }
.nd-meta { color: var(--nd-subdued); font-size: var(--text-sm); }
.nd-context { margin: 8px 0; padding: 6px 10px; border-left: 3px solid var(--color-accent);
  background: var(--background-fill-secondary); font-size: var(--text-md); line-height: 1.5; }
.nd-source mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 2px; }
.nd-full summary { cursor: pointer; color: var(--nd-accent); font-size: var(--text-sm); }
.nd-article { position: relative; max-height: 420px; overflow-y: auto; margin-top: 6px; font-size: var(--text-sm);
  line-height: 1.5; }
.nd-article p { margin: 0 0 8px 0; }
#nd-examples { flex-wrap: wrap; gap: 6px; }
#nd-collection summary { cursor: pointer; color: var(--nd-accent); }
#nd-question textarea:focus-visible, #nd-chat a:focus-visible, #nd-sources a:focus-visible,
button:focus-visible { outline: 2px solid var(--color-accent); outline-offset: 2px; }
#nd-examples button { flex: 0 1 auto; min-width: 0; }
.nd-differ { border: 1px solid #f59e0b; background: #fffbeb; color: #1f2937; border-radius: 10px;
  padding: 10px 12px; margin: 0 0 12px 0; }
.nd-differ ul { margin: 4px 0 0 0; padding-left: 18px; }
.nd-differ * { color: #1f2937; }  /* a light box in both themes: dark text, dark links */
.nd-differ a.nd-marker { color: #4338ca; }
.nd-point { margin: 0; font-style: italic; }
.nd-side { font-weight: 600; }
.nd-dropped { margin: 8px 0; color: var(--nd-subdued); font-size: var(--text-sm); }
.nd-dropped summary { cursor: pointer; }
.nd-back { display: none; margin-top: 6px; font-size: var(--text-sm); }
/* Phones: a shorter chat, so the question box is on screen when the page opens; a link from each source card back
   to the answer (the sources sit under the chat there). */
@media (max-width: 640px) {
  #nd-chat { height: 36vh !important; min-height: 180px !important; }
  .nd-back { display: inline-block; }
}
"""

# Opening a full article scrolls it to the highlighted quote ('toggle' does not bubble, hence the capture).
SCROLL_TO_QUOTE = """
element.addEventListener('toggle', (event) => {
  const box = event.target.open && event.target.querySelector ? event.target.querySelector('.nd-article') : null;
  const mark = box ? box.querySelector('mark') : null;
  if (mark) box.scrollTop = Math.max(0, mark.offsetTop - 24);
}, true);
"""

# The copy button: the handler writes the text into a hidden box; the browser puts it on the clipboard.
COPY_TO_CLIPBOARD = """
async (text) => { if (text) { await navigator.clipboard.writeText(text); } return []; }
"""

THEME = gr.themes.Soft(
    # System fonts: the default theme fetches Google Fonts, and this app must work offline.
    font=("ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"),
    font_mono=("ui-monospace", "SFMono-Regular", "Menlo", "monospace"),
)


Outputs = tuple[Any, str | dict[str, Any], list[Turn], str, str]  # chat, sources panel, turns, notice, input box


class ChatHandlers:
    """What the UI's events do, apart from Gradio so tests can call them directly."""

    def __init__(self, backend: Backend, *, stream_delay: float = 0.02, warmup: WarmUp | None = None) -> None:
        self.backend = backend
        self.library = ArticleLibrary(backend.settings.corpus_dir)
        self.stream_delay = stream_delay
        self.warmup = warmup

    def poll_status(self) -> tuple[str, Any]:
        """The status line and whether to ask again: what the app is doing while it starts, then what is indexed."""
        if self.warmup is not None and not self.warmup.done:
            return self.warmup.line(), gr.Timer(active=True)
        return self.status(), gr.Timer(active=False)

    def respond(
        self, question: str, chat: list[Any], turns: list[Turn], by_source: bool = False
    ) -> Iterator[Outputs]:
        """Show the question, then stream the answer in word by word with its sources beside it."""
        question = question or ""
        chat = list(chat or [])
        turn = len(turns)  # chat holds one user and one assistant message per turn
        if question.strip():  # show the question at once; the answer follows
            yield [*chat, _msg("user", escape_md(question)), _msg("assistant", SEARCHING)], gr.skip(), turns, "", ""
        try:
            answer = None
            stream = getattr(self.backend, "ask_stream", None)
            if stream is None:
                answer = self.backend.ask(question, history_of(turns), by_source=bool(by_source))
            else:
                draft = ""
                for item in stream(question, history_of(turns), by_source=bool(by_source)):
                    if isinstance(item, Answer):
                        answer = item
                        break
                    draft += item  # a language model's draft: shown as such, replaced once verified
                    shown = f"{DRAFTING}\n\n{escape_md(draft)}"
                    yield ([*chat, _msg("user", escape_md(question)), _msg("assistant", shown)], gr.skip(), turns,
                           "", gr.skip())
            if answer is None:
                raise AssistantError("The answerer stopped without an answer; ask again.")
        except InvalidQuestionError as exc:  # give the text back so it can be fixed
            yield chat, gr.skip(), turns, _notice(str(exc)), question
            return
        except Exception as exc:
            if isinstance(exc, AssistantError):
                text = f"⚠️ {escape_md(str(exc))}"
            else:  # never a stack trace in the page
                log.exception("answering %r failed", question)
                text = "⚠️ Something went wrong while answering; the details are in the server log."
            failed = [*chat, _msg("user", escape_md(question)), _msg("assistant", text)]
            yield failed, NO_SOURCES, [*turns, Turn(question=question)], "", gr.skip()
            return
        turns = [*turns, Turn(question=question.strip(), answer=answer)]
        panel = sources_html(answer, turn, self.library)
        words = re.findall(r"\S+\s*", answer_markdown(answer, turn))
        step = max(1, -(-len(words) // STREAM_STEPS))  # long answers arrive in bigger pieces, never slower
        for end in range(step, len(words) + step, step):
            shown = "".join(words[:end])
            # The input box is left alone (gr.skip): whatever the reader types meanwhile stays where it is.
            yield [*chat, _msg("user", escape_md(question)), _msg("assistant", shown)], panel, turns, "", gr.skip()
            if self.stream_delay:
                time.sleep(self.stream_delay)

    def sources_for(self, turns: list[Turn], message_index: int) -> str:
        """The sources panel for the turn a chat message belongs to."""
        turn = message_index // 2
        return sources_html(turns[turn].answer if 0 <= turn < len(turns) else None, turn, self.library)

    def select(self, turns: list[Turn], evt: gr.SelectData) -> str:
        """Clicking an earlier answer brings its sources back into the panel."""
        index = evt.index if isinstance(evt.index, int) else (evt.index or [0])[0]
        return self.sources_for(turns, int(index))

    def ask_api(
        self, question: str, turns: list[Turn], by_source: bool = False
    ) -> tuple[dict[str, Any], list[Turn]]:
        """Answer as JSON (the Answer's fields); follow-ups in the same client session see earlier questions."""
        try:
            answer = self.backend.ask(question, history_of(turns), by_source=bool(by_source))
        except AssistantError as exc:
            raise gr.Error(public_message(str(exc)), print_exception=False) from exc
        return answer.model_dump(), [*turns, Turn(question=question.strip(), answer=answer)]

    def copy_text(self, turns: list[Turn]) -> str:
        """The last answer as plain text with its numbered sources and quotes (what the copy button copies)."""
        from .cli import format_answer

        answered = [t for t in turns if t.answer is not None]
        return format_answer(answered[-1].answer) if answered and answered[-1].answer else ""

    def status(self) -> str:
        """The status line."""
        return status_markdown(self.backend)

    def reindex(self, progress: gr.Progress | None = None) -> tuple[str, str]:
        """Bring the index up to date with corpus/, reporting progress per article."""

        def on_article(source_id: str, done: int, total: int) -> None:
            if progress is not None:
                progress((done, total), desc=f"Embedding {source_id}", unit="articles")

        try:
            report = self.backend.index(progress=on_article)
        except AssistantError as exc:
            return self.status(), _notice(str(exc))
        except Exception as exc:  # never a bare "Error": say it failed, keep the details in the server log
            log.exception("re-indexing failed")
            return self.status(), _notice(f"Re-indexing failed ({type(exc).__name__}); the previous index is still in "
                                          "use. The details are in the server log.")
        return self.status(), report_markdown(report)


def build_ui(backend: Backend, *, stream_delay: float = 0.02, warmup: WarmUp | None = None) -> gr.Blocks:
    """The chat UI around `backend`; per-session state keeps each visitor's conversation apart."""
    ui = ChatHandlers(backend, stream_delay=stream_delay, warmup=warmup)

    def reindex(progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008 (how gradio injects it)
        progress(0, desc="Reading corpus/")
        return ui.reindex(progress)

    with gr.Blocks(title="newsdesk", analytics_enabled=False) as demo:
        gr.Markdown("## newsdesk\nAsk about the news articles below: who said what, how many, when, and whether "
                    "the sources agree. Every answer quotes the articles it comes from; click a marker like [1] to "
                    "see the passage in context.")
        collection = gr.Markdown(collection_markdown(ui.library.documents()), elem_id="nd-collection")
        status = gr.Markdown("Loading the index… (the first run builds it, which takes a little while)",
                             elem_id="nd-status")
        with gr.Accordion("Settings", open=False, elem_id="nd-settings"):
            reindex_btn = gr.Button("Re-index the articles", size="sm", min_width=170, variant="secondary")
            report = gr.Markdown("", elem_id="nd-report")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                # As tall as the window allows with the intro and the question box still on screen when it opens.
                chatbot = gr.Chatbot(label="Conversation", show_label=False,
                                     height="max(300px, calc(100vh - 440px))", min_height=300, buttons=["copy"],
                                     feedback_options=None, elem_id="nd-chat",
                                     placeholder="Ask a question about the articles, or pick an example below.")
                notice = gr.HTML("", elem_id="nd-notice")
                question = gr.Textbox(label="Your question", placeholder="Ask about the articles…", submit_btn="Ask",
                                      stop_btn="Stop", lines=1, max_lines=4, autofocus=True, elem_id="nd-question")
                copy_btn = gr.Button("Copy the answer with its sources", size="sm", variant="secondary",
                                     elem_id="nd-copy")
                by_source = gr.Checkbox(label="Source by source: one line per article", value=False,
                                        elem_id="nd-by-source")
                with gr.Row(elem_id="nd-examples"):
                    examples = [gr.Button(q, size="sm", variant="secondary", scale=0) for q in EXAMPLES]
            with gr.Column(scale=2, min_width=300):
                sources = gr.HTML(NO_SOURCES, elem_id="nd-sources", js_on_load=SCROLL_TO_QUOTE)
        turns = gr.State([])
        # The JSON endpoint for programs: gradio_client.Client(url).predict("...", api_name="/ask").
        # JSON, not a Textbox: a Textbox would turn 3 or ["..."] into text; the answerer says what is wrong instead.
        api_question = gr.JSON(visible=False, label="question")
        api_by_source = gr.Checkbox(visible=False, value=False, label="by_source")
        api_answer = gr.JSON(visible=False, label="answer")
        api_trigger = gr.Button(visible=False)
        copy_buffer = gr.Textbox(visible=False, elem_id="nd-copy-buffer")

        outputs = [chatbot, sources, turns, notice, question]
        private: dict[str, Any] = {"api_visibility": "private"}
        answering: list[dict[str, Any]] = [question.submit(ui.respond, [question, chatbot, turns, by_source], outputs,
                                                           **private)]
        for button in examples:  # a button's value is its label: the example question
            answering.append(button.click(ui.respond, [button, chatbot, turns, by_source], outputs, **private))
        # "Stop" (shown in the input box while an answer comes in) cancels it; what was shown so far stays.
        question.stop(None, None, None, cancels=answering, **private)
        chatbot.clear(lambda: (NO_SOURCES, [], "", ""), None, [sources, turns, notice, report], queue=False,
                      **private)
        # Plain text with the numbered sources and their quotes, as a journalist pastes it (not escaped Markdown).
        copy_btn.click(ui.copy_text, [turns], copy_buffer, **private).then(
            None, [copy_buffer], None, js=COPY_TO_CLIPBOARD, **private)
        chatbot.select(ui.select, [turns], sources, **private)
        reindex_btn.click(reindex, None, [status, report], show_progress_on=[report], concurrency_limit=1, **private)
        reindex_btn.click(lambda: collection_markdown(ui.library.documents()), None, collection, **private)
        api_trigger.click(ui.ask_api, [api_question, turns, api_by_source], [api_answer, turns], api_name="ask")
        # While the app starts, the status line says what it is doing, every second, until it is ready.
        timer = gr.Timer(1.0, active=warmup is not None)
        timer.tick(ui.poll_status, None, [status, timer], **private)
        demo.load(ui.poll_status, None, [status, timer], **private)
    return demo


def _msg(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


class WarmUp:
    """What the app is doing before it can answer, for the status line while it starts."""

    def __init__(self) -> None:
        self.phase = "Starting…"
        self.started = time.monotonic()
        self.done = False

    def set(self, phase: str) -> None:
        """Say what is happening now."""
        self.phase = phase

    def line(self) -> str:
        """The status line while starting: what, for how long, and what to expect."""
        return (f"⏳ {self.phase} ({time.monotonic() - self.started:.0f}s so far; {TYPICAL_START}). You can type "
                "your question meanwhile.")


def warm_up(backend: Backend, progress: WarmUp | None = None) -> None:
    """Open (or build) the index and load the model, so the first visitor does not wait; errors are logged.
    `progress` says what is happening, for the status line."""
    progress = progress or WarmUp()
    try:
        progress.set("Loading the embedding model and opening the index…")

        def on_article(source_id: str, done: int, total: int) -> None:
            progress.set(f"Indexing the articles: {done} of {total} embedded…")

        backend.index(progress=on_article)
        progress.set("Getting ready to answer…")
        backend.ask(EXAMPLES[0])  # the first question loads what answering needs
        lexicon.load()  # and WordNet, which only yes/no questions read
        tagging.load()  # and the tagger, which reads "Which ..." questions
    except Exception as exc:  # the UI reports the same problem on the status line or in the chat
        log.warning("warm-up: %s", exc)
    finally:
        progress.done = True


def launch(backend: Backend, *, host: str, port: int, share: bool = False, warmup: WarmUp | None = None) -> None:
    """Serve the UI on host:port until interrupted; analytics off, no public link unless `share`."""
    demo = build_ui(backend, warmup=warmup)
    demo.queue(default_concurrency_limit=4)  # several visitors at once; Assistant.ask is thread-safe
    demo.launch(server_name=host, server_port=port, share=share, theme=THEME, css=CSS,
                footer_links=["api", "settings"], show_error=False, max_file_size=MAX_UPLOAD_BYTES)
