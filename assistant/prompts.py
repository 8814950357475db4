"""Prompts are plain files in prompts/, loaded by name relative to the project; a missing variable is an error."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError
from .settings import PROJECT_DIR

PROMPTS_DIR = PROJECT_DIR / "prompts"
_SECTION = re.compile(r"^--- (system|user) ---$", re.MULTILINE)


@dataclass(frozen=True)
class Prompt:
    """A chat prompt: a system and a user template, and the variables they take."""

    name: str
    version: str
    system: str
    user: str

    @property
    def variables(self) -> set[str]:
        """The {names} the templates use."""
        return {f for t in (self.system, self.user) for _, f, _, _ in string.Formatter().parse(t) if f}

    def messages(self, **values: str) -> list[dict[str, str]]:
        """The chat messages with every variable filled in; a missing or unknown variable is an error."""
        missing = self.variables - values.keys()
        extra = values.keys() - self.variables
        if missing or extra:
            raise ConfigurationError(
                f"Prompt {self.name!r} takes {', '.join(sorted(self.variables))}; "
                f"missing: {', '.join(sorted(missing)) or 'none'}, unknown: {', '.join(sorted(extra)) or 'none'}."
            )
        return [{"role": "system", "content": self.system.format(**values).strip()},
                {"role": "user", "content": self.user.format(**values).strip()}]


def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> Prompt:
    """The prompt `prompts/<name>.txt`."""
    path = folder / f"{name}.txt"
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"Prompt file {path} cannot be read ({exc.strerror}): restore it from the "
                                 "repository.") from exc
    version = next((line.split(":", 1)[1].strip() for line in raw.splitlines() if line.startswith("# version:")), "")
    text = "\n".join(line for line in raw.splitlines() if not line.startswith("# "))
    parts = _SECTION.split(text)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    if set(sections) != {"system", "user"}:
        raise ConfigurationError(f"Prompt file {path} needs a '--- system ---' and a '--- user ---' section.")
    return Prompt(name=name, version=version, system=sections["system"], user=sections["user"])
