"""`python -m castling` runs the `castling` command."""

import sys

from castling.cli.main import main

sys.exit(main())
