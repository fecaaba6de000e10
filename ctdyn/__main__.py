"""Run the command line as ``python -m ctdyn``."""

import sys

from .cli import main

sys.exit(main())
