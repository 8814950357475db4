"""Answerers that use a language model: any OpenAI-compatible server, or a local GGUF file through llama.cpp.

The model drafts an answer from the numbered passages (prompts/answer.txt); `assistant/verify.py` keeps only the
sentences a cited passage supports. If nothing survives, or the model says the articles don't answer, the
extractive answer is given instead and the answer says so. The API key is read from the environment only and is
never put in a message, a log line or a report.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .attribution import source_name
from .conversation import Query
from .errors import ConfigurationError, LLMError
from .features import VectorCache
from .models import Answer, Message, Passage
from .prompts import Prompt, load_prompt
from .verify import Verifier

MAX_TURNS = 4  # turns of history shown to the model when it rewrites a follow-up: the referent is in the last few
MAX_REWRITE = 4  # a rewrite this many times longer than the question is an answer, not a question
FALLBACK_NOTE = ("The language model's answer could not be checked against the articles, so this is the extractive "
                 "answer.")
REFUSED_NOTE = "The language model found no answer in the passages; this is the extractive answer."


class ChatModel(Protocol):
    """A chat model that streams its reply."""

    name: str

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The reply to `messages`, piece by piece; raises LLMError when the model cannot answer."""
        ...


class OpenAIChat:
    """A model behind an OpenAI-compatible HTTP API (OpenAI, vLLM, Ollama, llama.cpp's server, ...).

    The `openai` client retries 429 and 5xx replies with exponential backoff (`retries` times) and gives up after
    `timeout` seconds per request.
    """

    def __init__(self, base_url: str, model: str, *, api_key: str | None, timeout: float, retries: int,
                 max_tokens: int) -> None:
        self.base_url, self.model, self.name = base_url, model, f"openai:{model}"
        self._api_key, self.timeout, self.retries, self.max_tokens = api_key, timeout, retries, max_tokens

    def __repr__(self) -> str:  # never the key
        return f"OpenAIChat(base_url={self.base_url!r}, model={self.model!r})"

    @cached_property
    def _client(self) -> Any:
        import openai

        # Local servers take any key; the client insists on one.
        return openai.OpenAI(base_url=self.base_url, api_key=self._api_key or "not-needed", timeout=self.timeout,
                             max_retries=self.retries)

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The reply, streamed; server errors become an LLMError that says what to check."""
        import openai

        try:
            chunks = self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=0, max_tokens=self.max_tokens)
            for chunk in chunks:
                choices = getattr(chunk, "choices", None) or []
                piece = choices[0].delta.content if choices and choices[0].delta else None
                if piece:
                    yield piece
        except (openai.APIError, ValueError) as exc:
            raise LLMError(f"The language model at {self.base_url} {self._explain(exc)}") from exc

    def _explain(self, exc: Exception) -> str:
        """What went wrong and what to do, for the first matching kind of failure; never the key."""
        import openai

        reasons: list[tuple[type[Exception], str]] = [
            (openai.APITimeoutError, f"did not answer within {self.timeout:g}s: check that it is running, or raise "
                                     "ASSISTANT_LLM_TIMEOUT."),
            (openai.APIConnectionError, "cannot be reached: start it, or set ASSISTANT_LLM_BASE_URL to where it runs."),
            (openai.AuthenticationError, "refused the API key: set ASSISTANT_LLM_API_KEY to a valid key."),
            (openai.NotFoundError, f"has no model {self.model!r} (or no chat endpoint there): check "
                                   "ASSISTANT_LLM_MODEL and ASSISTANT_LLM_BASE_URL."),
        ]
        for kind, reason in reasons:
            if isinstance(exc, kind):
                return reason
        if isinstance(exc, openai.APIStatusError):
            return f"failed with HTTP {exc.status_code} after {self.retries} retries: try again later."
        return "sent a reply that could not be read: check that it speaks the OpenAI chat API."  # malformed


class LlamaCppChat:
    """A GGUF model run in this process by llama-cpp-python (`pip install -e '.[local]'`)."""

    def __init__(self, model_path: Path, *, max_tokens: int, context: int = 4096) -> None:
        self.model_path, self.max_tokens, self.context = model_path, max_tokens, context
        self.name = f"local:{model_path.name}"

    @cached_property
    def _llama(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise ConfigurationError(
                "The local answerer needs llama-cpp-python: pip install -e '.[local]' (on CPUs where the native "
                'build crashes, with CMAKE_ARGS="-DGGML_NATIVE=OFF").') from exc
        return Llama(model_path=str(self.model_path), n_ctx=self.context, verbose=False)

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """The reply, streamed."""
        try:
            for chunk in self._llama.create_chat_completion(messages=messages, stream=True, temperature=0,
                                                            max_tokens=self.max_tokens):
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece
        except (RuntimeError, ValueError) as exc:
            raise LLMError(f"The local model {self.model_path.name} failed: {exc}") from exc


def passages_block(passages: Sequence[Passage]) -> str:
    """The numbered passages as the answer prompt shows them."""
    return "\n\n".join(f"[{i}] {source_name(p.source_id, p.outlet)} - {p.title}\n{p.text.strip()}"
                       for i, p in enumerate(passages, start=1))


class LLMGenerator:
    """Drafts with a chat model, then keeps only what the passages support."""

    def __init__(self, chat: ChatModel, cache: VectorCache, fallback: Any, *, name: str,
                 prompt: Prompt | None = None, verifier: Verifier | None = None) -> None:
        self.chat, self.fallback, self.name = chat, fallback, name
        self.prompt = prompt or load_prompt("answer")
        self.followup = load_prompt("followup")
        self.verifier = verifier or Verifier(cache)

    def rewrite(self, question: str, history: Sequence[Message]) -> str | None:
        """A follow-up rewritten by the model into a question that stands alone (prompts/followup.txt); None when
        the model fails or its reply is not a plausible question, so the model-free resolution stands."""
        turns = "\n".join(f"{m.role}: {m.content}" for m in history[-MAX_TURNS:])
        try:
            reply = "".join(self.chat.stream(self.followup.messages(history=turns, question=question))).strip()
        except LLMError:
            return None
        reply = reply.splitlines()[0].strip().strip('"') if reply else ""
        if not reply or len(reply) > MAX_REWRITE * max(len(question), 40) or "[" in reply:
            return None
        return reply

    def messages(self, query: Query, passages: Sequence[Passage]) -> list[dict[str, str]]:
        """The chat messages for a question and its passages."""
        return self.prompt.messages(question=query.form, passages=passages_block(passages))

    def draft(self, query: Query, passages: Sequence[Passage]) -> Iterator[str]:
        """The model's unverified reply, piece by piece (nothing is drafted without passages)."""
        if passages:
            yield from self.chat.stream(self.messages(query, passages))

    def finish(self, draft: str, query: Query, passages: Sequence[Passage]) -> Answer:
        """The verified answer from a finished draft; the extractive answer when nothing in it holds."""
        verified = self.verifier.verify(draft, passages)
        if verified.found:
            return verified
        note = REFUSED_NOTE if not verified.dropped else FALLBACK_NOTE
        backup = self.fallback.answer(query, passages)
        if not backup.found:
            return verified  # neither finds an answer: "The articles don't say."
        return backup.model_copy(update={"dropped": verified.dropped, "notes": [*backup.notes, note]})

    def answer(self, query: Query, passages: Sequence[Passage]) -> Answer:
        """Draft, then verify."""
        return self.finish("".join(self.draft(query, passages)), query, passages)
