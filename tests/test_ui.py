"""The chat UI's handlers and rendering: a fake backend over a small real corpus folder; no model, no server."""

from __future__ import annotations

import html
import importlib.util
from collections.abc import Iterator, Sequence
from pathlib import Path

import gradio as gr
import pytest

from assistant.core import Assistant
from assistant.errors import CorpusError, InvalidQuestionError
from assistant.indexing import Progress
from assistant.models import Answer, Citation, Disagreement, IndexReport, Message, Position, Skipped
from assistant.rendering import (
    NO_SOURCES,
    ArticleLibrary,
    answer_markdown,
    collection_markdown,
    escape_md,
    find_quote,
    quote_in_context,
    source_card,
    sources_html,
)
from assistant.settings import Settings
from assistant.ui import (
    SEARCHING,
    ChatHandlers,
    IndexStatus,
    Turn,
    WarmUp,
    build_ui,
    public_message,
    report_markdown,
    status_markdown,
    warm_up,
)

from .fakes import FakeEmbedder

DRONES = (
    "Drone strike on the residence\n"
    "Source: Example Wire\n"
    "Published: 2021-11-07\n"
    "URL: https://example.com/drones\n\n"
    "Baghdad was quiet on Sunday morning after a night of gunfire.\n\n"
    "Officials said three drones were launched at the residence; two were shot down.\n\n"
    "The prime minister said he was unhurt & called for calm <script>alert(1)</script>.\n"
)
BLAME = "Iran denied any role\n\nIran's foreign ministry blamed foreign think tanks for the attack.\n"

THREE_DRONES = "Officials said three drones were launched at the residence; two were shot down."


class FakeBackend:
    """Answers from a queue and records the history each question was asked with."""

    def __init__(self, corpus_dir: Path) -> None:
        self.settings = Settings(corpus_dir=corpus_dir, data_dir=corpus_dir.parent / "data")
        self.queue: list[Answer | Exception] = []
        self.calls: list[tuple[str, list[Message]]] = []
        self.by_source: list[bool] = []
        self.indexed = 0

    def enqueue(self, *items: Answer | Exception) -> FakeBackend:
        self.queue.extend(items)
        return self

    def ask(self, question: str, history: Sequence[Message] | None = None, *, by_source: bool = False) -> Answer:
        self.calls.append((question, list(history or [])))
        self.by_source.append(by_source)
        item = self.queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def status(self) -> IndexStatus:
        return IndexStatus(documents=2, chunks=7, generator="fake")

    def index(self, *, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        for i, sid in enumerate(("blame", "drones"), start=1):
            if progress:
                progress(sid, i, 2)
        self.indexed += 1
        return IndexReport(added=["drones"], unchanged=["blame"], skipped=[Skipped(path="x.md", reason="empty file")])


def drones_answer() -> Answer:
    return Answer(
        text=f"- Example Wire: {THREE_DRONES} [1]\n- \"Iran denied any role\": *Iran's* ministry blamed others. [2]",
        citations=[
            Citation(marker=1, source_id="drones", title="Drone strike on the residence", outlet="Example Wire",
                     quote=THREE_DRONES),
            Citation(marker=2, source_id="blame", title="Iran denied any role",
                     quote="Iran's foreign ministry blamed foreign think tanks for the attack."),
        ],
    )


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "drones.txt").write_text(DRONES, encoding="utf-8")
    (folder / "blame.txt").write_text(BLAME, encoding="utf-8")
    return folder


@pytest.fixture
def backend(corpus: Path) -> FakeBackend:
    return FakeBackend(corpus)


@pytest.fixture
def ui(backend: FakeBackend) -> ChatHandlers:
    return ChatHandlers(backend, stream_delay=0)


def run(ui: ChatHandlers, question: str, chat: list | None = None, turns: list[Turn] | None = None) -> list[tuple]:
    return list(ui.respond(question, chat or [], turns or []))


# ---- rendering ----


def test_find_quote_tolerates_line_breaks_and_spacing() -> None:
    text = "First paragraph.\nThree drones were\nlaunched  at dawn. Then quiet."
    start, end = find_quote(text, "Three drones were launched at dawn.") or (0, 0)
    assert text[start:end] == "Three drones were\nlaunched  at dawn."
    assert find_quote(text, "Four drones") is None
    assert find_quote(text, "   ") is None


def test_quote_in_context_highlights_inside_its_paragraph_and_escapes() -> None:
    text = "Other paragraph.\nBefore <b>it</b>. The quote & more. After it.\nNext paragraph."
    span = find_quote(text, "The quote & more.")
    assert span is not None
    assert quote_in_context(text, span) == "Before &lt;b&gt;it&lt;/b&gt;. <mark>The quote &amp; more.</mark> After it."


def test_quote_in_context_trims_long_paragraphs_at_word_boundaries() -> None:
    text = " ".join(["word"] * 200) + " QUOTE HERE. " + " ".join(["tail"] * 200)
    html = quote_in_context(text, find_quote(text, "QUOTE HERE.") or (0, 0), chars=50)
    assert html.startswith("…word") and html.endswith("tail…")
    assert "<mark>QUOTE HERE.</mark>" in html
    assert len(html) < 150


def test_source_card_shows_title_outlet_date_quote_in_context_and_full_article(corpus: Path) -> None:
    doc = ArticleLibrary(corpus).get("drones")
    assert doc is not None
    card = source_card(drones_answer().citations[0], doc, turn=3)
    assert 'id="nd-src-3-1"' in card
    assert '<a href="https://example.com/drones" target="_blank" rel="noopener noreferrer">' in card
    assert "Example Wire · 2021-11-07" in card
    assert f'<blockquote class="nd-context"><mark>{THREE_DRONES}</mark></blockquote>' in card
    assert "<summary>Open the full article</summary>" in card
    assert '<a class="nd-back" href="#nd-chat">Back to the answer</a>' in card
    assert "<p>Baghdad was quiet on Sunday morning after a night of gunfire.</p>" in card
    # Article text is data, never markup.
    assert "<script>" not in card and "&lt;script&gt;alert(1)&lt;/script&gt;" in card
    assert "unhurt &amp; called" in card


def test_source_card_falls_back_to_the_quote_when_the_article_is_gone() -> None:
    citation = Citation(marker=1, source_id="gone", title="A <title>", quote="Said <this>.")
    card = source_card(citation, None, turn=0)
    assert "<mark>Said &lt;this&gt;.</mark>" in card and "A &lt;title&gt;" in card
    assert "no longer in corpus/" in card


def test_answer_markdown_links_markers_and_escapes_article_text() -> None:
    md = answer_markdown(drones_answer(), turn=2)
    first, second = md.split("\n")
    assert first == (
        "- Example Wire: Officials said three drones were launched at the residence; two were shot down. "
        "[\\[1\\]](#nd-src-2-1)"
    )
    assert second == "- \"Iran denied any role\": \\*Iran's\\* ministry blamed others. [\\[2\\]](#nd-src-2-2)"


def test_a_line_after_the_list_is_its_own_paragraph() -> None:
    answer = drones_answer().model_copy(update={"text": drones_answer().text + "\nNothing on this in: article 004."})
    assert answer_markdown(answer, turn=0).split("\n")[-2:] == ["", "Nothing on this in: article 004."]


def test_article_library_rereads_the_folder_when_it_changes(corpus: Path) -> None:
    library = ArticleLibrary(corpus)
    assert library.get("new") is None
    (corpus / "new.txt").write_text("A new story\n\nSomething happened today in the city.\n", encoding="utf-8")
    doc = library.get("new")
    assert doc is not None and doc.text == "Something happened today in the city."


# ---- handlers ----


def test_respond_shows_the_question_then_streams_the_answer(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(drones_answer())
    steps = run(ui, "How many drones?")
    chat, panel, turns, notice, box = steps[0]
    assert chat == [{"role": "user", "content": "How many drones?"}, {"role": "assistant", "content": SEARCHING}]
    assert box == "" and notice == ""
    streamed = [s[0][-1]["content"] for s in steps[1:]]
    assert len(streamed) > 10, "the answer arrives in pieces"
    assert all(b.startswith(a.rstrip()) for a, b in zip(streamed, streamed[1:], strict=False))
    assert streamed[-1] == answer_markdown(drones_answer(), turn=0)
    chat, panel, turns, notice, box = steps[-1]
    assert f"<mark>{THREE_DRONES}</mark>" in panel and 'id="nd-src-0-2"' in panel
    assert turns == [Turn(question="How many drones?", answer=drones_answer())]
    # Only the submit empties the input box: later updates leave alone what the reader types meanwhile.
    assert all(s[4] == gr.skip() for s in steps[1:])


def test_follow_up_is_asked_with_the_session_history(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(drones_answer(), drones_answer())
    chat, _, turns, _, _ = run(ui, "How many drones?")[-1]
    run(ui, "Who launched them?", chat, turns)
    assert backend.calls[0] == ("How many drones?", [])
    assert backend.calls[1] == (
        "Who launched them?",
        [Message(role="user", content="How many drones?"), Message(role="assistant", content=drones_answer().text)],
    )


def test_not_found_says_so_and_shows_no_sources(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(Answer(text="The articles don't say.", found=False))
    chat, panel, *_ = run(ui, "What is the capital of France?")[-1]
    assert chat[-1]["content"].startswith("The articles don't say.\n\n_No indexed article answers this.")
    assert "No source: the articles don't answer this question." in panel


def test_a_refusal_shows_the_closest_passages_as_such(ui: ChatHandlers, backend: FakeBackend) -> None:
    nearest = drones_answer().citations[0]
    backend.enqueue(Answer(text="The articles don't say.", found=False, nearest=[nearest]))
    chat, panel, *_ = run(ui, "How many UAVs?")[-1]
    assert chat[-1]["content"].startswith("The articles don't say.\n\n_No passage answers this clearly.")
    assert "No source answers this question clearly." in panel
    heading = panel.index("Closest passages (they may not answer the question):")
    assert heading < panel.index('class="nd-source"') and html.escape(nearest.quote, quote=False) in panel


def test_invalid_question_becomes_a_notice_and_the_text_is_kept(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(InvalidQuestionError("The question is 3,000 characters long; the limit is 2,000. Shorten it."))
    steps = run(ui, "x" * 3000, [{"role": "user", "content": "earlier"}], [])
    chat, panel, turns, notice, box = steps[-1]
    assert chat == [{"role": "user", "content": "earlier"}], "the pending question is taken back out"
    assert notice == (
        '<div class="nd-notice" role="alert">⚠️ The question is 3,000 characters long; the limit is 2,000. '
        "Shorten it.</div>"
    )
    assert box == "x" * 3000 and turns == []


def test_empty_question_adds_no_bubble(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(InvalidQuestionError("The question is empty: type a question about the articles."))
    steps = run(ui, "   ")
    assert len(steps) == 1
    chat, _, _, notice, _ = steps[0]
    assert chat == [] and "The question is empty: type a question about the articles." in notice


def test_assistant_errors_are_answered_in_the_chat(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(CorpusError("Corpus folder /x has no .txt or .md articles: add some, then run `assistant index`."))
    chat, panel, turns, _, _ = run(ui, "Who?")[-1]
    assert chat[-1] == {
        "role": "assistant",
        "content": "⚠️ Corpus folder /x has no .txt or .md articles: add some, then run \\`assistant index\\`.",
    }
    assert panel == NO_SOURCES and turns == [Turn(question="Who?")]


def test_unexpected_errors_show_no_traceback(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(RuntimeError("secret internals at line 42"))
    chat, *_ = run(ui, "Who?")[-1]
    assert chat[-1]["content"] == "⚠️ Something went wrong while answering; the details are in the server log."


def test_failed_turns_are_left_out_of_the_history(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(CorpusError("broken"), drones_answer())
    chat, _, turns, _, _ = run(ui, "First?")[-1]
    run(ui, "Second?", chat, turns)
    assert backend.calls[1] == ("Second?", [])


def test_selecting_an_earlier_answer_brings_back_its_sources(ui: ChatHandlers) -> None:
    only_blame = Answer(text="x [1]", citations=[drones_answer().citations[1]])
    turns = [Turn(question="a", answer=drones_answer()), Turn(question="b", answer=only_blame)]
    assert 'id="nd-src-0-1"' in ui.sources_for(turns, 1)  # message 1: the first answer
    later = ui.sources_for(turns, 3)
    assert 'id="nd-src-1-2"' in later and THREE_DRONES not in later
    assert ui.sources_for(turns, 9) == NO_SOURCES


def test_ask_api_returns_the_answer_fields_and_keeps_the_session(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(drones_answer(), InvalidQuestionError("The question is empty: type a question about the articles."))
    data, turns = ui.ask_api("How many drones?", [])
    assert Answer.model_validate(data) == drones_answer()
    assert set(data) == {"text", "citations", "found", "lead", "disagreements", "silent", "dropped", "notes", "nearest"}
    assert set(data["citations"][0]) == {"marker", "source_id", "title", "outlet", "quote", "speaker"}
    with pytest.raises(gr.Error, match="The question is empty: type a question about the articles."):
        ui.ask_api("", turns)


def test_status_line_and_its_error(backend: FakeBackend) -> None:
    assert status_markdown(backend) == "**2** articles · **7** chunks indexed · answerer: **fake**"

    class Broken(FakeBackend):
        def status(self) -> IndexStatus:
            raise CorpusError("Corpus folder /x does not exist: create it.")

    assert status_markdown(Broken(backend.settings.corpus_dir)) == "⚠️ Corpus folder /x does not exist: create it."


def test_reindex_reports_progress_and_what_changed(ui: ChatHandlers, backend: FakeBackend) -> None:
    seen: list[tuple[tuple[int, int], str]] = []

    class Recorder:
        def __call__(self, value: tuple[int, int], desc: str, unit: str) -> None:
            seen.append((value, desc))

    status, report = ui.reindex(Recorder())  # type: ignore[arg-type]
    assert seen == [((1, 2), "Embedding blame"), ((2, 2), "Embedding drones")]
    assert status == "**2** articles · **7** chunks indexed · answerer: **fake**"
    assert report == (
        "Re-indexed in 0.0s: 1 added, 0 updated, 0 removed, 1 unchanged, 1 skipped.\n- skipped x.md: empty file"
    )


def test_only_the_ask_endpoint_is_public(backend: FakeBackend) -> None:
    info = build_ui(backend).get_api_info()
    assert list(info["named_endpoints"]) == ["/ask"]
    params = info["named_endpoints"]["/ask"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["question", "by_source"]


def test_app_binds_localhost_and_never_shares_by_default() -> None:
    spec = importlib.util.spec_from_file_location("app", Path(__file__).resolve().parent.parent / "app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    args = app.build_parser(Settings(host="127.0.0.1", port=7860)).parse_args([])
    assert (args.host, args.port, args.share) == ("127.0.0.1", 7860, False)
    args = app.build_parser(Settings(port=8123)).parse_args(["--host", "0.0.0.0"])
    assert (args.host, args.port) == ("0.0.0.0", 8123)


def test_real_chain_answers_render_with_their_quotes_highlighted(tmp_path: Path, corpus_dir: Path) -> None:
    """The default answerer over the seed corpus (fake embedder): every citation's quote is marked in its card."""
    settings = Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data", min_score=0.0)  # fake vectors score low
    ui = ChatHandlers(Assistant(settings, embedder=FakeEmbedder()), stream_delay=0)
    chat, panel, turns, notice, _ = run(ui, "How many drones were used?")[-1]
    answer = turns[0].answer
    assert answer is not None and answer.citations and notice == ""
    for c in answer.citations:
        card = panel.split(f'id="nd-src-0-{c.marker}"')[1].split("</article>")[0]
        marked = card.split("<mark>")[1].split("</mark>")[0]
        assert " ".join(html.unescape(marked).split()) == " ".join(c.quote.split())
        assert f"(#nd-src-0-{c.marker})" in chat[-1]["content"]


def test_the_question_is_shown_as_text_not_markdown(ui: ChatHandlers) -> None:
    """A question with Markdown image syntax must not make the browser fetch anything."""
    chat = run(ui, "![x](http://127.0.0.1:9/t.png) Who did Iran blame?")[0][0]
    shown = chat[0]["content"]
    assert chat[0]["role"] == "user" and "![x](" not in shown and "\\!\\[x\\]" in shown


# ---- who says what ----


def test_disagreements_get_their_own_block_above_the_sources(ui: ChatHandlers, backend: FakeBackend) -> None:
    answer = drones_answer().model_copy(update={
        "citations": [c.model_copy(update={"speaker": "Maj. Gen. <Saad> Maan"}) for c in drones_answer().citations],
        "disagreements": [Disagreement(point="How many drones?", kind="number", positions=[
            Position(claim="three", markers=[1]), Position(claim="at <least> two", markers=[1])])],
    })
    backend.enqueue(answer)
    panel = run(ui, "How many drones?")[-1][1]
    block, cards = panel.split('<div class="nd-sources-list">')
    assert block.startswith('<section class="nd-differ" aria-label="Where the sources differ">')
    assert "How many drones?" in block and "at &lt;least&gt; two" in block  # escaped like all article text
    assert block.count('href="#nd-src-0-1"') == 2  # each side links to the card that states it
    assert "Claim by Maj. Gen. &lt;Saad&gt; Maan" in cards


def test_the_per_source_toggle_reaches_the_assistant(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(drones_answer(), drones_answer())
    list(ui.respond("How many drones?", [], [], True))
    list(ui.respond("How many drones?", [], []))
    assert backend.by_source == [True, False]
    assert "nd-differ" not in sources_html(drones_answer(), 0, ui.library)  # no block without a disagreement


# ---- language-model answers ----


class StreamingBackend(FakeBackend):
    """Streams a draft before the verified answer, as the Assistant does for a language model."""

    def ask_stream(self, question: str, history: Sequence[Message] | None = None, *,
                   by_source: bool = False) -> Iterator[str | Answer]:
        yield from ["Three drones", " attacked;", " aliens did it."]
        yield self.ask(question, history, by_source=by_source)


def test_a_draft_is_shown_as_a_draft_then_replaced_by_the_verified_answer(corpus: Path) -> None:
    backend = StreamingBackend(corpus)
    verified = drones_answer().model_copy(update={"dropped": ["Aliens did it. (removed: not supported by [1])"],
                                                  "notes": ["Checked against the articles."]})
    backend.enqueue(verified)
    steps = run(ChatHandlers(backend, stream_delay=0), "How many drones?")
    drafts = [s[0][-1]["content"] for s in steps if "Drafting" in str(s[0][-1]["content"])]
    assert drafts and drafts[-1].endswith("Three drones attacked; aliens did it.")
    final_chat, panel = steps[-1][0], steps[-1][1]
    assert "aliens" not in final_chat[-1]["content"]  # the unverified sentence does not stay on screen
    assert final_chat[-1]["content"].endswith("_Checked against the articles._")
    assert '<details class="nd-dropped"><summary>1 removed: not supported by the sources</summary>' in panel
    assert "Aliens did it. (removed: not supported by [1])" in panel


def test_errors_sent_to_programs_never_show_server_paths(ui: ChatHandlers, backend: FakeBackend) -> None:
    backend.enqueue(CorpusError("The corpus folder /srv/private/newsdesk/corpus does not exist: create it."))
    with pytest.raises(gr.Error) as caught:
        ui.ask_api("Who did Iran blame?", [])
    assert caught.value.message == "The corpus folder corpus/ does not exist: create it."
    assert public_message("The model at http://127.0.0.1:9/v1 cannot be reached.") == (
        "The model at http://127.0.0.1:9/v1 cannot be reached.")


def test_a_failed_reindex_says_so_and_keeps_the_old_index(ui: ChatHandlers, backend: FakeBackend,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_: object) -> IndexReport:
        raise OSError("disk full")

    monkeypatch.setattr(backend, "index", broken)
    status, report = ui.reindex()
    assert "Re-indexing failed (OSError); the previous index is still in use." in report
    assert 'role="alert"' in report and status.startswith("**2** articles")


def test_a_repaired_index_is_reported(backend: FakeBackend) -> None:
    text = report_markdown(IndexReport(repaired=["The vector store was damaged (x); it was moved aside."]))
    assert "\n- repaired: The vector store was damaged \\(x\\); it was moved aside." in text


def test_the_collection_is_described_for_a_reader(corpus: Path) -> None:
    docs = ArticleLibrary(corpus).documents()
    text = collection_markdown(docs)
    assert text.split("\n")[0].startswith(f"**The collection:** {len(docs)} articles from ")
    assert all(f"- {escape_md(d.title)}" in text for d in docs)
    assert collection_markdown([]).startswith("**No articles yet.**")


def test_copy_gives_the_last_answer_as_plain_text_with_sources(ui: ChatHandlers) -> None:
    turns = [Turn(question="How many drones?", answer=drones_answer()), Turn(question="Broken?")]
    copied = ui.copy_text(turns)
    assert copied.startswith(drones_answer().text) and "\nSources:\n[1] drones: Drone strike on the residence" in copied
    assert f'    "{THREE_DRONES}"' in copied and "\\" not in copied
    assert ui.copy_text([]) == ""


def test_the_status_line_says_what_the_app_does_while_it_starts(backend: FakeBackend) -> None:
    warmup = WarmUp()
    ui = ChatHandlers(backend, stream_delay=0, warmup=warmup)
    line, timer = ui.poll_status()
    assert line.startswith("⏳ Starting… (0s so far; on a 2-core CPU") and timer.active is True
    seen: list[str] = []
    real_set = warmup.set
    warmup.set = lambda phase: (seen.append(phase), real_set(phase))  # type: ignore[method-assign]
    backend.enqueue(drones_answer())
    warm_up(backend, warmup)
    assert seen == ["Loading the embedding model and opening the index…", "Indexing the articles: 1 of 2 embedded…",
                    "Indexing the articles: 2 of 2 embedded…", "Getting ready to answer…"]
    line, timer = ui.poll_status()
    assert line == "**2** articles · **7** chunks indexed · answerer: **fake**" and timer.active is False


def test_a_failed_warm_up_still_ends_and_shows_the_status(backend: FakeBackend) -> None:
    warmup = WarmUp()
    backend.enqueue(CorpusError("The corpus folder corpus/ is empty."))
    warm_up(backend, warmup)  # the failing first question is logged, not raised
    line, timer = ChatHandlers(backend, stream_delay=0, warmup=warmup).poll_status()
    assert warmup.done and timer.active is False
    assert line == "**2** articles · **7** chunks indexed · answerer: **fake**"


def test_stop_cancels_an_answer_in_progress(backend: FakeBackend) -> None:
    config = build_ui(backend).get_config_file()
    box = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "nd-question")
    assert box["props"]["stop_btn"] == "Stop" and box["props"]["label"] == "Your question"
    deps = config["dependencies"]
    answering = {i for i, d in enumerate(deps) if d.get("backend_fn") and any(
        t[0] == box["id"] and t[1] == "submit" for t in d["targets"])}
    stops = [d for d in deps if any(t[0] == box["id"] and t[1] == "stop" for t in d["targets"])]
    cancelled = {i for d in stops for i in d.get("cancels", [])}
    assert answering and answering <= cancelled and len(cancelled) == 1 + 3  # the submit and the three examples
