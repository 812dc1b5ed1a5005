"""``python -m gametheory.cli``: the same as the ``gametheory`` command."""

import sys

from gametheory.cli import main

sys.exit(main())
