"""Load LGO decisions into the store: `python ingest.py [PATH ...] [--json] [--prune] [--rebuild]`.

Exit status: 0 when every file loaded, 1 when some failed (the rest are still loaded), 2 for usage
errors.  A thin shell over `rag.Bot.ingest`.
"""

import argparse
import sys

from rag.cli import add_ingest_arguments, main


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python ingest.py", description=__doc__.splitlines()[0])
    add_ingest_arguments(parser)
    parser.set_defaults(command="ingest")
    return parser


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], parser=_parser()))
