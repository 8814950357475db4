"""Errors a user can act on: each message says what to do next."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant raises on purpose."""

    exit_code = 1


class InvalidQuestionError(AssistantError, ValueError):
    """The question is empty or too long."""

    exit_code = 2


class CorpusError(AssistantError):
    """The corpus directory is missing, empty or has no usable article."""

    exit_code = 3


class ConfigurationError(AssistantError):
    """A setting names something that does not exist (e.g. an unknown generator)."""

    exit_code = 5


class LLMError(AssistantError):
    """The language model server is unreachable, too slow, or answered with an error or garbage."""

    exit_code = 6
