"""Chroma server mode: the same code path against a real `chroma run` server on 127.0.0.1 gives the same answers."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import Assistant, ConfigurationError, Settings
from assistant.embeddings import MiniLMEmbedder

from .fakes import FakeEmbedder
from .servers import free_port, serving

CHROMA = Path(sys.executable).parent / "chroma"  # the CLI that ships with the chromadb package
QUESTIONS = ["Who did Iran blame?", "How many drones were used?", "Was al-Kadhimi hurt?", "Who won the World Cup?"]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free port of 127.0.0.1 with its own folder; stopped after the module."""
    if not CHROMA.exists():
        pytest.skip(f"{CHROMA} not found: it comes with the chromadb package")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(CHROMA), "run", "--path", str(tmp_path_factory.mktemp("chroma-server")), "--host", "127.0.0.1",
               "--port", str(port)]
    with serving(command, f"{url}/api/v2/heartbeat", timeout=60):
        yield url


@pytest.mark.integration
def test_a_chroma_server_gives_the_same_answers_as_the_embedded_database(
    chroma_url: str, tmp_path: Path, real_assistant: Assistant, minilm: MiniLMEmbedder
) -> None:
    settings = real_assistant.settings.model_copy(update={"chroma_url": chroma_url, "data_dir": tmp_path / "data"})
    served = Assistant(settings, embedder=minilm)
    report = served.index()
    assert report.chunks == real_assistant.status().chunks and not report.repaired
    assert not (tmp_path / "data" / "chroma").exists()  # the vectors live in the server
    for question in QUESTIONS:
        assert served.ask(question) == real_assistant.ask(question), question
    assert served.index().changed is False  # incremental against the server too


def test_a_chroma_url_nobody_answers_is_a_clear_error(tmp_path: Path) -> None:
    bot = Assistant(Settings(data_dir=tmp_path, chroma_url="http://127.0.0.1:9"), embedder=FakeEmbedder())
    with pytest.raises(ConfigurationError, match=r"No Chroma server answers at http://127.0.0.1:9: start one"):
        bot.index()
    bad = Assistant(Settings(data_dir=tmp_path, chroma_url="127.0.0.1:8000"), embedder=FakeEmbedder())
    with pytest.raises(ConfigurationError, match=r"must look like http://host:port"):
        bad.index()
