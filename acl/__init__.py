"""pyACL (``import acl``), implemented by openacl for machines without an Ascend NPU."""

import sys as _sys

from openacl.acl import MODULES as _MODULES

globals().update({name: getattr(_MODULES["acl"], name) for name in _MODULES["acl"].__all__})
for _name in ("rt", "mdl", "util"):
    globals()[_name] = _MODULES[_name]
    _sys.modules[f"{__name__}.{_name}"] = _MODULES[_name]
del _name
