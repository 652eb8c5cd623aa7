"""``python -m decide`` runs the command line."""

import sys

from decide.cli import main

sys.exit(main())
