"""``python -m openacl``: the same as the ``openacl`` command."""

import sys

from openacl.tools.cli import main

sys.exit(main())
