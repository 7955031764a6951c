"""Exceptions of the openacl core. Each carries the ACL error code the facade returns.

The core raises; only the facade (``openacl.acl``) turns an exception into a return code.
Never parse a code back out of a message: read ``error.code``.
"""

from __future__ import annotations

import warnings

from openacl.constants import ErrorCode as E

__all__ = [
    "AclError", "InvalidParam", "RepeatInitialize", "RepeatFinalize",
    "InvalidFile", "ParseFile", "InvalidDumpConfig",
    "InvalidDevice", "ContextNotSet", "StreamContextMismatch", "ModelContextMismatch",
    "RuntimeParamInvalid", "MemoryAllocation", "NoStreamResource", "FeatureNotSupported",
    "ApiNotSupported",
    "StreamSyncTimeout", "EventSyncTimeout", "ReportTimeout",
    "ThreadNotSubscribed", "StreamNotSubscribed", "RepeatSubscribe", "ModelExecuteFailed",
    "GeParamInvalid", "ModelIdInvalid", "DynamicInputLengthInvalid",
    "DynamicBatchSizeInvalid", "InternalError", "ThreadFunctionFailed",
    "BindingRaise", "ArgumentTypeError", "ArgumentValueError",
    "FidelityWarning",
    "report_fidelity",
]


class AclError(Exception):
    """An error with an ACL return code. Subclasses set ``code`` as a class attribute."""

    code: int = E.ACL_ERROR_FAILURE

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        if code is not None:
            self.code = int(code)

    @property
    def message(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        return f"{self.code}: {self.args[0]}"

    def __reduce__(self):
        return (_rebuild, (type(self), self.args[0], self.code))


def _rebuild(cls, message, code):
    return cls(message, code)


class InvalidParam(AclError):
    code = E.ACL_ERROR_INVALID_PARAM


class RepeatInitialize(AclError):
    code = E.ACL_ERROR_REPEAT_INITIALIZE


class RepeatFinalize(AclError):
    code = E.ACL_ERROR_REPEAT_FINALIZE


class InvalidFile(AclError):
    code = E.ACL_ERROR_INVALID_FILE


class ParseFile(AclError):
    code = E.ACL_ERROR_PARSE_FILE


class InvalidDumpConfig(AclError):
    code = E.ACL_ERROR_INVALID_DUMP_CONFIG


class InvalidDevice(AclError):
    code = E.ACL_ERROR_RT_INVALID_DEVICEID


class ContextNotSet(AclError):
    code = E.ACL_ERROR_RT_CONTEXT_NULL


class StreamContextMismatch(AclError):
    code = E.ACL_ERROR_RT_STREAM_CONTEXT


class ModelContextMismatch(AclError):
    code = E.ACL_ERROR_RT_MODEL_CONTEXT


class RuntimeParamInvalid(AclError):
    code = E.ACL_ERROR_RT_PARAM_INVALID


class MemoryAllocation(AclError):
    code = E.ACL_ERROR_RT_MEMORY_ALLOCATION


class NoStreamResource(AclError):
    code = E.ACL_ERROR_RT_NO_STREAM_RESOURCE


class ApiNotSupported(AclError):
    code = E.ACL_ERROR_API_NOT_SUPPORT


class FeatureNotSupported(AclError):
    code = E.ACL_ERROR_RT_FEATURE_NOT_SUPPORT


class StreamSyncTimeout(AclError):
    code = E.ACL_ERROR_RT_STREAM_SYNC_TIMEOUT


class EventSyncTimeout(AclError):
    code = E.ACL_ERROR_RT_EVENT_SYNC_TIMEOUT


class ReportTimeout(AclError):
    code = E.ACL_ERROR_RT_REPORT_TIMEOUT


class ThreadNotSubscribed(AclError):
    code = E.ACL_ERROR_RT_THREAD_SUBSCRIBE


class StreamNotSubscribed(AclError):
    code = E.ACL_ERROR_RT_STREAM_NO_CB_REG


class RepeatSubscribe(AclError):
    code = E.ACL_ERROR_RT_STREAM_SUBSCRIBE


class ModelExecuteFailed(AclError):
    code = E.ACL_ERROR_RT_MODEL_EXECUTE


class GeParamInvalid(AclError):
    code = E.ACL_ERROR_GE_PARAM_INVALID


class ModelIdInvalid(AclError):
    code = E.ACL_ERROR_GE_EXEC_MODEL_ID_INVALID


class DynamicInputLengthInvalid(AclError):
    code = E.ACL_ERROR_GE_DYNAMIC_INPUT_LENGTH_INVALID


class DynamicBatchSizeInvalid(AclError):
    code = E.ACL_ERROR_GE_DYNAMIC_BATCH_SIZE_INVALID


class InternalError(AclError):
    code = E.ACL_ERROR_INTERNAL_ERROR


class Failure(AclError):
    """ACL_ERROR_FAILURE: e.g. a JPEG/PNG header the host-side parser cannot read."""
    code = E.ACL_ERROR_FAILURE


class FormatNotMatch(AclError):
    """A pixel format the DVPP operation does not take on this SoC."""
    code = E.ACL_ERROR_FORMAT_NOT_MATCH


class FeatureUnsupported(AclError):
    """An API or option this SoC family does not have (ACL_ERROR_FEATURE_UNSUPPORTED)."""
    code = E.ACL_ERROR_FEATURE_UNSUPPORTED


class UnsupportedJpeg(AclError):
    """Progressive, arithmetic-coded, 12-bit, CMYK...: JPEGs the DVPP decoder cannot decode."""
    code = E.ACL_ERROR_UNSUPPORTED_JPEG


class ResourceNotCleared(AclError):
    """Destroying a description whose resource (a DVPP channel) still exists."""
    code = E.ACL_ERROR_RELATIVE_RESOURCE_NOT_CLEARED


class DvppTaskFailed(AclError):
    """A DVPP task failed on the device (bad stride, buffer too small, ROI...): reported by
    the next synchronize, as the device's AI-CPU kernels report it."""
    code = E.ACL_ERROR_RT_AICPU_EXCEPTION


class BindingRaise(Exception):
    """Marks the few exceptions pyACL's binding itself raises after parsing its arguments.

    The facade re-raises these unchanged; any other exception from the core becomes a
    return code (500000 when it is not an ``AclError``). Use the concrete classes below.
    """


class ArgumentTypeError(BindingRaise, TypeError):
    """The binding checks an argument's type after parsing it (e.g. a config value by attr)."""


class ArgumentValueError(BindingRaise, ValueError):
    """The binding refuses an argument's value with ValueError (e.g. ``acl.util.ptr_to_bytes``)."""


class ArgumentKeyError(BindingRaise, KeyError):
    """The binding reads a config dict's keys and raises KeyError for a missing one."""


class ThreadFunctionFailed(BindingRaise, RuntimeError):
    """``acl.util.stop_thread``: the thread's function raised (pyACL re-raises it)."""


class CallbackNotSet(BindingRaise, RuntimeError):
    """A VDEC/VENC call that needs the channel desc's Python callback, and none was set."""

    def __init__(self):
        super().__init__("did not set callback, failed")


class FidelityWarning(UserWarning):
    """Something worked here that would fail or misbehave on a real Ascend NPU."""


def report_fidelity(message: str, error: type[AclError] = RuntimeParamInvalid,
                    code: int | None = None) -> None:
    """Warn about a call that works here but would break on an NPU; raise in strict mode."""
    from openacl import config

    if config.strict():
        raise error(message + " (refused: OPENACL_STRICT is set)", code)
    warnings.warn(message, FidelityWarning, stacklevel=4)
