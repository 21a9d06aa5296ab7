"""Instroom's command line: `python cli.py --help`. The commands live in the cli/ package."""

import sys

from cli import main

if __name__ == "__main__":
    sys.exit(main())
