"""The pyACL facade: ``acl`` and its submodules (``rt``, ``mdl``, ``util``, ``media``), built
from the call table.

Importing the ``*_calls`` modules registers the implementations; ``build_modules`` then makes
one function per table line, implemented or not.
"""

from openacl.acl import (aipp_calls, buffer_calls, lifecycle_calls, media_calls,  # noqa: F401
                         model_calls, runtime_calls, util_calls, video_calls)
from openacl.acl import prof_calls  # noqa: F401
from openacl.acl.build import build_modules

MODULES = build_modules()

__all__ = ["MODULES"]
