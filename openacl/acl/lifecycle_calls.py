"""pyACL top-level calls: lifecycle, version, error messages, logging, float16 bits."""

from __future__ import annotations

import logging

import numpy as np

from openacl import config
from openacl.acl.build import implements, take_recent_error
from openacl.constants import MAJOR_VERSION, MINOR_VERSION, PATCH_VERSION
from openacl.runtime import RUNTIME

_app_log = logging.getLogger("acl.app")
_LOG_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR}


@implements("acl.init")
def init(config_path):
    """Initialise pyACL, reading the optional JSON configuration file."""
    RUNTIME.init(config_path)


@implements("acl.finalize")
def finalize():
    """Release everything pyACL holds; resources the program left alive are reported."""
    RUNTIME.finalize()


@implements("acl.finalize_reference")
def finalize_reference():
    """Drop one ``acl.init`` reference; finalize when none is left. Return those left."""
    return RUNTIME.finalize_reference()


@implements("acl.get_version")
def get_version():
    return MAJOR_VERSION, MINOR_VERSION, PATCH_VERSION


@implements("acl.get_soc_name")
def get_soc_name():
    """The chip name (``OPENACL_SOC_NAME``); None before ``acl.init``, as in ACL."""
    return config.soc_name() if RUNTIME.initialized else None


@implements("acl.get_recent_err_msg")
def get_recent_err_msg():
    """Return and clear the message of the calling thread's most recent failed call."""
    return take_recent_error(process_wide=RUNTIME.config.err_msg_mode == 1)


@implements("acl.app_log")
def app_log(level, msg):
    """Write an application log line (to the ``acl.app`` Python logger)."""
    _app_log.log(_LOG_LEVELS.get(level, logging.ERROR), msg)


@implements("acl.float16_to_float")
def float16_to_float(value):
    return float(np.array(value, np.uint16).view(np.float16))


@implements("acl.float_to_float16")
def float_to_float16(value):
    """IEEE round to nearest; beyond float16's range the bits of +-inf, as the C cast gives
    (quietly: numpy's overflow warning is not pyACL's)."""
    with np.errstate(over="ignore"):
        return int(np.array(value, np.float32).astype(np.float16).view(np.uint16))
