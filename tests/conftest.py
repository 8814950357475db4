"""Shared fixtures. No test may reach a model hub: offline mode is forced before anything imports."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

import pytest  # noqa: E402

from assistant import Assistant, Settings  # noqa: E402
from assistant.embeddings import MiniLMEmbedder  # noqa: E402

from .fakes import FakeEmbedder  # noqa: E402

PROJECT = Path(__file__).resolve().parent.parent
SEED_CORPUS = PROJECT / "corpus"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A private copy of the seed corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(SEED_CORPUS, target)
    return target


@pytest.fixture
def fake_assistant(tmp_path: Path, corpus_dir: Path) -> Assistant:
    """An Assistant over the seed corpus with the fake embedder and a real Chroma in tmp_path."""
    settings = Settings(corpus_dir=corpus_dir, data_dir=tmp_path / "data")
    return Assistant(settings, embedder=FakeEmbedder())


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """The real all-MiniLM-L6-v2, loaded once per test session from its package."""
    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def real_assistant(tmp_path_factory: pytest.TempPathFactory, minilm: MiniLMEmbedder) -> Iterator[Assistant]:
    """The default stack (MiniLM + Chroma + extractive answerer) over the seed corpus, built once."""
    data = tmp_path_factory.mktemp("real-index")
    assistant = Assistant(Settings(corpus_dir=SEED_CORPUS, data_dir=data), embedder=minilm)
    assistant.index()
    yield assistant
