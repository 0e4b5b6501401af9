"""The chat app: `python app.py [--host H] [--port P]` (defaults RAG_HOST, RAG_PORT: 127.0.0.1:7860).

If the store is empty it first ingests the bundled decisions, showing progress.  A thin shell
over `rag.ui.ChatApp`; a bad setting or an unreachable store ends with one line, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry, before gradio is imported


def main(argv: list[str] | None = None) -> int:
    from rag import Bot, RagError, Settings
    from rag.cli import format_report, progress_bar

    parser = argparse.ArgumentParser(prog="python app.py", description=__doc__.splitlines()[0])
    parser.add_argument("--host", help="address to listen on (default RAG_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default RAG_PORT, 7860)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    try:
        settings = Settings.from_env(**overrides)
        bot = Bot(settings)
        if bot.store.count_chunks() == 0:
            print("The index is empty: ingesting the bundled decisions first.", file=sys.stderr)
            print(format_report(bot.ingest(progress=progress_bar(False))), file=sys.stderr)
        from rag.ui import ChatApp

        app = ChatApp(bot, settings)
        print(f"Serving on http://{settings.host}:{settings.port}", file=sys.stderr)
        app.launch()
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
