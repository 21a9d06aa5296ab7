"""Instroom's command line: `python cli.py --help`. The commands live in the cli/ package."""

import logging
import os
import sys

from cli import main

if __name__ == "__main__":
    status = main()
    if "db.engine" in sys.modules:
        sys.modules["db.engine"].close_engines()
    # Everything is written, committed and closed by now: skip the interpreter's teardown
    # of pandas', SQLAlchemy's and the plan's objects, a quarter of a small import's time.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
