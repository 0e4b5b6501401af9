"""The chat app (Gradio) is built under its own issue; until then this points to the CLI."""

import sys

if __name__ == "__main__":
    print("the chat app is not built yet; ask from the command line instead:\n"
          '  .venv/bin/python -m rag ask "your question"', file=sys.stderr)
    sys.exit(2)
