"""``python -m openacl.atc``: the same as the ``atc`` console script."""

import sys

from openacl.atc.cli import main

sys.exit(main())
