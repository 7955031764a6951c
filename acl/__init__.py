"""pyACL (``import acl``), implemented by openacl for machines without an Ascend NPU."""

import sys as _sys

from openacl.acl import MODULES as _MODULES

globals().update({name: getattr(_MODULES["acl"], name) for name in _MODULES["acl"].__all__})
# The submodules are the call table's (rt, mdl, util, media, ...): none is listed here.
for _name, _module in _MODULES.items():
    if _name != "acl":
        globals()[_name] = _module
        _sys.modules[f"{__name__}.{_name}"] = _module
del _name, _module
