"""openacl: Huawei's pyACL (``import acl``) for machines without an Ascend NPU.

``import acl`` gives the pyACL API. This package also exports pyACL's documented constants
by name for new code (``openacl.ACL_SUCCESS``, ``openacl.ACL_MEMCPY_HOST_TO_DEVICE``...).
"""

from openacl.constants import *  # noqa: F401,F403  (enum classes)
from openacl.constants import flat_names as _flat_names
from openacl.errors import AclError, FidelityWarning

__version__ = "0.1.0"

globals().update(_flat_names())
__all__ = ["AclError", "FidelityWarning", "__version__", *sorted(_flat_names())]
