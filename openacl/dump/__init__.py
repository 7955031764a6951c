"""Per-operator dumps (``acl.init`` JSON ``dump``, ``acl.mdl.*_dump``) and their comparison.

docs/dump.md describes the files and the calls.
"""

from openacl.dump.config import DumpConfig, check_section
from openacl.dump.state import DUMP, DumpState

__all__ = ["DUMP", "DumpState", "DumpConfig", "check_section"]
