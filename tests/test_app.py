"""The real app (`python app.py`) on a free localhost port, driven by gradio_client and by headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from assistant.corpus import read_corpus
from assistant.models import Answer
from assistant.text import flatten

from .servers import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
CHROMIUM = Path(os.environ.get("NEWSDESK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
STARTUP_SECONDS = 120
AXE = Path(os.environ.get("NEWSDESK_AXE", ROOT / ".venv" / "axe-core-4.14.1" / "axe.min.js"))
AXE_VIOLATIONS = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(
  v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
QUOTE_IN_VIEW = """(selector) => {
  const box = document.querySelector(selector), mark = box && box.querySelector('mark');
  if (!mark) return false;
  const top = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
  return top >= 0 && top < box.clientHeight;
}"""

pytestmark = pytest.mark.integration


@contextmanager
def _running_app(data: Path) -> Iterator[str]:
    """`python app.py` with `data` as its data dir on a free port of 127.0.0.1, from the moment it answers HTTP."""
    port = free_port()
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_CORPUS_DIR": str(CORPUS),
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    url = f"http://127.0.0.1:{port}/"
    with serving([sys.executable, "app.py", "--port", str(port)], url, timeout=STARTUP_SECONDS, env=env, cwd=ROOT,
                 log=data / "app.log"):
        yield url


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with a fresh data dir (so it builds its own index)."""
    with _running_app(tmp_path_factory.mktemp("data")) as url:
        yield url


def assert_cited_verbatim(answer: Answer) -> None:
    """Every marker has a citation, and every quote is verbatim in the cleaned article it names."""
    docs = {d.source_id: flatten(d.text) for d in read_corpus(CORPUS)[0]}
    assert answer.found and answer.citations
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.marker for c in answer.citations}
    for c in answer.citations:
        assert flatten(c.quote) in docs[c.source_id], c


def test_ask_endpoint_answers_with_citations(app_url: str) -> None:
    data = Client(app_url, verbose=False).predict("Who did Iran blame?", api_name="/ask")
    answer = Answer.model_validate(data)
    assert set(data) == {"text", "citations", "found", "lead", "disagreements", "silent", "dropped", "notes",
                         "nearest"}
    assert_cited_verbatim(answer)
    assert "Iran" in answer.text


def test_follow_up_uses_its_own_session_history(app_url: str) -> None:
    """Two clients at once: A's follow-up leans on A's question; B, asking the same words cold, gets no answer."""
    a, b = Client(app_url, verbose=False), Client(app_url, verbose=False)
    a.predict("How many drones were used?", api_name="/ask")
    results: dict[str, Answer] = {}

    def ask(name: str, client: Client) -> None:
        results[name] = Answer.model_validate(client.predict("Who launched them?", api_name="/ask"))

    threads = [threading.Thread(target=ask, args=(n, c)) for n, c in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert_cited_verbatim(results["a"])
    assert "drones" in results["a"].text
    assert not results["b"].found and results["b"].text == "The articles don't say."


def test_the_upload_route_is_capped(app_url: str) -> None:
    import json

    with urllib.request.urlopen(f"{app_url.rstrip('/')}/config", timeout=10) as response:  # noqa: S310 (loopback)
        config = json.load(response)
    assert config["max_file_size"] == 1024


def test_errors_come_back_as_messages(app_url: str) -> None:
    with pytest.raises(AppError, match=r"^The question is empty: type a question about the articles\.$"):
        Client(app_url, verbose=False).predict("   ", api_name="/ask")


def test_only_ask_is_offered_to_programs(app_url: str) -> None:
    api = Client(app_url, verbose=False).view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/ask"]


@contextmanager
def _ready_page(app_url: str, width: int = 1280, height: int = 900, scheme: str = "light"
                ) -> Iterator[tuple[Any, Any]]:
    """playwright's API and a Chromium page on the app (light or dark colour scheme), its index loaded."""
    sync_api = _playwright()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, color_scheme=scheme)
            page.goto(app_url)
            sync_api.expect(page.locator("#nd-status")).to_contain_text("5 articles", timeout=90_000)
            yield sync_api, page
        finally:
            browser.close()


def _playwright() -> Any:
    """playwright's sync API, or a skip saying what to install."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install chromium")
    return sync_api


@pytest.mark.browser
@pytest.mark.parametrize(
    ("width", "height", "name"),
    [(1280, 900, "screenshot.png"), (390, 844, "screenshot-narrow.png"), (1280, 900, "screenshot-dark.png"),
     (390, 844, "screenshot-narrow-dark.png")],
)
def test_browser_asks_and_shows_sources(app_url: str, tmp_path: Path, width: int, height: int, name: str) -> None:
    """Type a question in headless Chromium, wait for the answer, check the sources panel quotes it; screenshot."""
    sync_api = _playwright()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height},
                                    color_scheme="dark" if "dark" in name else "light")
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((app_url, "data:")) else None)
            page.goto(app_url)
            status = page.locator("#nd-status")
            sync_api.expect(status).to_contain_text("5 articles · 25 chunks indexed · answerer: extractive",
                                                    timeout=90_000)

            box = page.get_by_placeholder("Ask about the articles…")
            place = box.bounding_box()
            assert place is not None and place["y"] + place["height"] <= height, "the question box is off screen"
            assert page.evaluate("window.scrollY") == 0, "the page scrolled to reach the question box"
            box.press("Enter")  # empty: a message, not an error page
            sync_api.expect(page.locator(".nd-notice")).to_have_text(
                "⚠️ The question is empty: type a question about the articles.")

            box.fill("Who did Iran blame?")
            box.press("Enter")
            first = page.locator("#nd-sources mark").first
            first.wait_for(timeout=60_000)
            sync_api.expect(page.locator("#nd-chat a", has_text="[1]")).to_be_visible()
            page.wait_for_timeout(1500)  # let the stream finish
            assert page.locator(".nd-notice").count() == 0
            answer = page.locator("#nd-chat .bot").last.inner_text()
            assert "Iran" in answer and "[1]" in answer and "[2]" in answer
            quotes = {flatten(q) for q in page.locator("#nd-sources mark").all_inner_texts()}
            articles = " ".join(flatten(d.text) for d in read_corpus(CORPUS)[0])
            assert quotes and all(q in articles for q in quotes)
            assert page.locator("#nd-sources .nd-title").first.inner_text().strip()

            # The marker links to its source card; the full article opens below it.
            page.locator("#nd-chat a", has_text="[2]").click()
            assert page.url.endswith("#nd-src-0-2")
            # Focus follows the marker to its card (keyboard and screen-reader users land on the source).
            page.wait_for_function("document.activeElement && document.activeElement.id === 'nd-src-0-2'",
                                   timeout=5_000)
            card = page.locator("#nd-src-0-2")
            card.locator("summary").click()
            sync_api.expect(card.locator(".nd-article")).to_be_visible()
            page.wait_for_function(QUOTE_IN_VIEW, arg="#nd-src-0-2 .nd-article", timeout=5_000)  # opens at the quote
            card.locator("summary").click()
            if width < 600:  # under the chat on a phone: a link leads back up to the answer
                card.locator(".nd-back").click()
                sync_api.expect(page.locator("#nd-chat a", has_text="[2]")).to_be_in_viewport()

            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"page is {overflow}px wider than a {width}px window"
            assert outside == [], "the page must not load anything from the internet"

            page.evaluate("window.scrollTo(0, 0)")
            shot = tmp_path / name
            page.screenshot(path=str(shot), full_page=width < 600)
            assert shot.stat().st_size > 10_000
            if target := os.environ.get("NEWSDESK_SCREENSHOT_DIR"):  # e.g. docs/, to refresh the README's
                shutil.copy(shot, Path(target) / name)
        finally:
            browser.close()


@pytest.mark.browser
def test_browser_shows_the_closest_passages_of_a_refusal_as_such(app_url: str, tmp_path: Path) -> None:
    """A reworded question the default refuses: the chat says so, and the panel offers the closest passages under
    their own heading, one of them the sentence that answers ("a former intelligence official")."""
    with _ready_page(app_url) as (sync_api, page):
        box = page.get_by_placeholder("Ask about the articles…")
        box.fill("Kadhimi's previous career?")
        box.press("Enter")
        nearest = page.locator("#nd-sources .nd-nearest")
        nearest.wait_for(timeout=60_000)
        sync_api.expect(nearest.locator("h3")).to_have_text("Closest passages (they may not answer the question):")
        sync_api.expect(page.locator("#nd-sources .nd-notfound")).to_be_visible()
        sync_api.expect(nearest.locator(".nd-context mark", has_text="a former intelligence official")).to_have_count(1)
        page.wait_for_timeout(1500)  # let the stream finish
        answer = page.locator("#nd-chat .bot").last.inner_text()
        assert answer.startswith("The articles don't say.") and "No passage answers this clearly" in answer
        shot = tmp_path / "screenshot-nearest.png"
        page.screenshot(path=str(shot))
        if target := os.environ.get("NEWSDESK_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(target) / shot.name)


@pytest.mark.browser
def test_browser_shows_where_the_sources_differ(app_url: str, tmp_path: Path) -> None:
    """A disputed question: the answer leads with each side, and a block above the cards links each to its card."""
    with _ready_page(app_url) as (sync_api, page):
        page.get_by_label("Source by source: one line per article").check()
        box = page.get_by_placeholder("Ask about the articles…")
        box.fill("Did Mustafa al-Kadhimi suffer any injuries in the assassination attempt?")
        box.press("Enter")
        block = page.locator("#nd-sources .nd-differ")
        block.wait_for(timeout=60_000)
        sync_api.expect(block).to_contain_text("Where the sources differ")
        sync_api.expect(block.locator(".nd-side")).to_have_text(["No", "Yes"])
        page.wait_for_timeout(1500)  # let the stream finish
        answer = page.locator("#nd-chat .bot").last.inner_text()
        assert answer.startswith("Sources differ: No")
        assert "Nothing on this in: Sputnik International." in answer  # source by source: the silent one named
        shot = tmp_path / "screenshot-differ.png"
        page.screenshot(path=str(shot))
        if target := os.environ.get("NEWSDESK_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(target) / shot.name)
        block.locator("a", has_text="[2]").click()
        assert page.url.endswith("#nd-src-0-2")
        sync_api.expect(page.locator("#nd-src-0-2 .nd-speaker")).to_have_count(0)  # narration: nobody cited
        sync_api.expect(page.locator("#nd-src-0-3 .nd-speaker")).to_have_text("Claim by Mr. Kadhimi")


@pytest.mark.parametrize("value", [3, ["Who did Iran blame?"], {"q": "Who did Iran blame?"}])
def test_ask_refuses_what_is_not_text(app_url: str, value: object) -> None:
    with pytest.raises(AppError, match=r"The question must be text"):
        Client(app_url, verbose=False).predict(value, api_name="/ask")


@pytest.mark.browser
def test_browser_keeps_what_is_typed_while_an_answer_streams(app_url: str) -> None:
    """Typing the next question while an answer streams in loses no character."""
    with _ready_page(app_url) as (_, page):
        box = page.get_by_placeholder("Ask about the articles…")
        box.fill("Who did Iran blame?")
        box.press("Enter")
        page.locator("#nd-chat .bot").last.wait_for(timeout=60_000)
        box.press_sequentially("Who fired them and from where?", delay=40)  # while the answer streams in
        page.locator("#nd-sources mark").first.wait_for(timeout=60_000)
        page.wait_for_timeout(2000)  # the stream is over
        assert box.input_value() == "Who fired them and from where?"



@pytest.mark.browser
def test_browser_copies_plain_text_with_sources_and_frames_the_collection(app_url: str) -> None:
    """The intro says what the articles are; admin controls sit under Settings; copy gives text with sources."""
    with _ready_page(app_url) as (sync_api, page):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
        sync_api.expect(page.locator("#nd-collection")).to_contain_text(
            "The collection: 5 articles from Press TV, Sputnik International and 3 other sources, dated 2021-11-07.")
        assert not page.get_by_role("button", name="Re-index the articles").is_visible()  # tucked away
        page.get_by_text("Settings").first.click()
        sync_api.expect(page.get_by_role("button", name="Re-index the articles")).to_be_visible()
        box = page.get_by_label("Your question")
        box.fill("Who did Iran blame?")
        box.press("Enter")
        page.locator("#nd-sources mark").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.get_by_role("button", name="Copy the answer with its sources").click()
        page.wait_for_timeout(1000)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "\nSources:\n[1] 000_e51b5d969b07c07d: Iran looks to shift blame" in copied
        assert "\\(" not in copied and "](#nd-src" not in copied  # no Markdown escapes, no links
        quote = page.locator("#nd-sources mark").first.inner_text()
        assert flatten(quote) in flatten(copied)


@pytest.mark.browser
def test_browser_tab_reaches_each_marker_in_order_and_lands_on_its_card(app_url: str) -> None:
    """Keyboard use: Tab from the top of the conversation passes the markers [1], [2], [3] in order before the
    question box; Enter on a marker moves focus to its source card."""
    with _ready_page(app_url) as (_, page):
        box = page.get_by_label("Your question")
        box.fill("Who did Iran blame?")
        box.press("Enter")
        page.locator("#nd-sources mark").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        markers = page.locator("#nd-chat .bot a").all_inner_texts()
        assert len(markers) >= 2
        page.locator("#nd-settings button").first.focus()  # the control right above the conversation
        reached: list[str] = []
        for _ in range(30):
            page.keyboard.press("Tab")
            tag, text = page.evaluate("[document.activeElement.tagName, document.activeElement.innerText || '']")
            if tag == "TEXTAREA":
                break
            if tag == "A":
                reached.append(text.strip())
        assert reached == markers and markers[:2] == ["[1]", "[2]"]
        page.keyboard.press("Shift+Tab")  # back from the question box to the last marker
        for _ in range(len(markers)):
            if page.evaluate("document.activeElement.innerText") == "[2]":
                break
            page.keyboard.press("Shift+Tab")
        page.keyboard.press("Enter")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'nd-src-0-2'",
                               timeout=5_000)


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height", "scheme"),
                         [(1280, 900, "light"), (1280, 900, "dark"), (390, 844, "light")])
def test_browser_page_has_no_serious_accessibility_violations(app_url: str, width: int, height: int,
                                                              scheme: str) -> None:
    """axe-core, run inside the page with an answer and its sources shown: nothing serious or critical."""
    if not AXE.exists():
        pytest.skip(f"{AXE} not found: `make test` fetches axe-core from the npm registry")
    with _ready_page(app_url, width, height, scheme) as (_, page):
        box = page.get_by_label("Your question")
        box.fill("Did Mustafa al-Kadhimi suffer any injuries in the assassination attempt?")
        box.press("Enter")
        page.locator("#nd-sources mark").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        page.add_script_tag(path=str(AXE))
        violations = page.evaluate(AXE_VIOLATIONS)
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert serious == [], serious


@pytest.mark.browser
def test_browser_status_says_what_happens_during_a_cold_start(tmp_path: Path) -> None:
    """A first start (no index yet) seen from the page: the status line names at least two stages before the
    collection is ready, then answers."""
    sync_api = _playwright()
    with _running_app(tmp_path) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url)
            stages: list[str] = []
            deadline = time.monotonic() + STARTUP_SECONDS
            while time.monotonic() < deadline:
                text = page.locator("#nd-status").inner_text().strip()
                if "5 articles" in text:
                    break
                stage = text.split("(")[0].strip()  # without the seconds counter
                if stage and (not stages or stages[-1] != stage):
                    stages.append(stage)
                page.wait_for_timeout(200)
            assert len([stage for stage in stages if stage.startswith("⏳")]) >= 2, stages
            box = page.get_by_label("Your question")
            box.fill("Who did Iran blame?")
            box.press("Enter")
            page.locator("#nd-sources mark").first.wait_for(timeout=60_000)
        finally:
            browser.close()
