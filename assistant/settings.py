"""One Settings object, read from the environment (prefix ASSISTANT_) and built once at each entry point."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that can be tuned, with defaults that work out of the box."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    corpus_dir: Path = Field(default=PROJECT_DIR / "corpus", description="Folder of .txt/.md articles.")
    data_dir: Path = Field(default=PROJECT_DIR / ".newsdesk", description="Where the index is stored.")
    collection: str = Field(default="newsdesk", description="Chroma collection name.")
    chroma_url: str | None = Field(default=None, description="A Chroma server (http://host:port) instead of the "
                                   "embedded database; the index state stays in data_dir.")
    top_k: int = Field(default=8, ge=1, le=50, description="Passages handed to the answerer.")
    candidates: int = Field(default=20, ge=1, le=200, description="Passages each retriever returns before fusion.")
    per_source: int = Field(default=2, ge=0, description="Passages per article before others fill in (0: no cap).")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal-rank-fusion constant.")
    chunk_tokens: int = Field(default=256, ge=32, le=256, description="Max MiniLM tokens per embedded chunk.")
    generator: str = Field(default="extractive",
                           description="Answerer: 'extractive' (default, no LLM), 'learned' (no LLM, learned model), "
                           "'openai' (any OpenAI-compatible server) or 'local' (a GGUF file via llama.cpp).")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible API, e.g. http://127.0.0.1:11434/v1.")
    llm_model: str | None = Field(default=None, description="Model name the server knows (e.g. llama3.2).")
    llm_api_key: SecretStr | None = Field(default=None, description="API key; from the environment only, never shown.")
    llm_timeout: float = Field(default=60.0, gt=0, description="Seconds one model request may take.")
    llm_retries: int = Field(default=3, ge=0, le=10, description="Retries (with backoff) on 429 and 5xx replies.")
    llm_max_tokens: int = Field(default=300, ge=16, le=4096, description="Longest reply the model may write.")
    llm_model_path: Path | None = Field(default=None, description="GGUF file for the local answerer.")
    min_score: float = Field(default=0.45, description="Below this evidence score the default answerer refuses.")
    max_sentences: int = Field(default=3, ge=1, le=8, description="Most sentences an extractive answer keeps.")
    max_question_chars: int = Field(default=2000, ge=1)
    max_history_chars: int = Field(default=100_000, ge=0, description="Most characters of chat history accepted.")
    host: str = Field(default="127.0.0.1")
    port: int = Field(default=7860, ge=1, le=65535)
