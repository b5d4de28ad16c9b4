"""``python -m initcheck``: the same as the ``initcheck`` command."""

import sys

from initcheck.cli.parser import main

sys.exit(main())
