"""The web UI: `python app.py [--host H] [--port P] [--share]`; defaults come from Settings (127.0.0.1:7860)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Sequence

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from assistant import Assistant, AssistantError, Settings  # noqa: E402
from assistant.ui import WarmUp, launch, warm_up  # noqa: E402


def build_parser(settings: Settings) -> argparse.ArgumentParser:
    """Arguments of app.py; host and port default to the settings (ASSISTANT_HOST, ASSISTANT_PORT)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=settings.host, help=f"interface to bind (default {settings.host})")
    parser.add_argument("--port", type=int, default=settings.port, help=f"port (default {settings.port})")
    parser.add_argument("--share", action="store_true", help="also open a public *.gradio.live link (off by default)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Build the Assistant once and serve the UI until interrupted."""
    settings = Settings()
    args = build_parser(settings).parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        assistant = Assistant(settings)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    # Load the model and index in the background: the page is usable at once and the first answer comes sooner.
    warmup = WarmUp()
    threading.Thread(target=warm_up, args=(assistant, warmup), name="warm-up", daemon=True).start()
    launch(assistant, host=args.host, port=args.port, share=args.share, warmup=warmup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
