"""`python -m genai_tui.cli` runs the command line."""

import sys

from genai_tui.cli import main

sys.exit(main())
