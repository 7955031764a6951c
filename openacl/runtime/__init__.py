"""The device model: devices, contexts, streams, events, memory and its registry."""

from openacl.runtime.runtime import RUNTIME, LeakWarning, Runtime

__all__ = ["RUNTIME", "Runtime", "LeakWarning", "reset"]


def reset() -> list[str]:
    """Release every runtime resource and forget ``acl.init``; return what was still alive.

    For test isolation, as ``acl.finalize`` followed by a fresh process would be.
    """
    leaks = RUNTIME.teardown()
    RUNTIME.initialized = False
    from openacl.runtime.init_config import InitConfig

    RUNTIME.config = InitConfig()
    return leaks
