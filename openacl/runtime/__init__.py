"""The device model: devices, contexts, streams, events, memory and its registry."""

from openacl.runtime.leaks import Leak, LeakWarning, last_report
from openacl.runtime.handles import handles
from openacl.runtime.runtime import RUNTIME, Runtime

__all__ = ["RUNTIME", "Runtime", "Leak", "LeakWarning", "last_report", "reset"]


def reset() -> list[Leak]:
    """Release every runtime resource and forget ``acl.init``; return what was still alive.

    For test isolation, as ``acl.finalize`` followed by a fresh process would be.
    """
    leaks = RUNTIME.teardown()
    handles.clear()              # host objects too: a fresh process starts without them
    RUNTIME.initialized = False
    from openacl.runtime.init_config import InitConfig

    RUNTIME.config = InitConfig()
    return leaks
