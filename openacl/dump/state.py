"""The process's dump state: the acl.init config, init_dump / set_dump / finalize_dump, the
chunk callback, and which loaded models dump.

A dump config is taken when a model loads (as on an NPU: ``set_dump`` comes before the
load): ``attach(model)`` gives the model's executor a recorder when the config selects the
model, and nothing otherwise, so a model no config selects runs exactly as without dump.
``finalize_dump`` (and ``acl.finalize``) detach every recorder.

Codes (docs/dump.md): ``init_dump`` before ``acl.init`` 100001; ``init_dump`` while dump
is already configured (by acl.init JSON or an earlier ``init_dump``) 100044; ``set_dump``
or ``finalize_dump`` without ``init_dump`` 100045; a bad config 100009 (a missing or
unreadable file 100003, text that is not JSON 100006); ``dump_reg_callback`` with a flag
other than 0 100000.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time

from openacl.constants import ErrorCode
from openacl.dump.config import DumpConfig
from openacl.errors import AclError, InvalidParam

__all__ = ["DUMP", "DumpState", "CHUNK_BYTES"]

CHUNK_BYTES = 4 * 1024 * 1024          # the most data_buf holds per callback chunk


class DumpState:
    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.api_config: DumpConfig | None = None   # set_dump's
        self.api_active = False                      # init_dump called, not finalized
        self.callback = None
        self.recorders: list = []                    # (executor, recorder) attached
        self.started = time.strftime("%Y%m%d%H%M%S")

    # ------------------------------------------------------------------ acl.mdl calls
    def init_dump(self) -> None:
        from openacl.runtime import RUNTIME

        if not RUNTIME.initialized:
            raise AclError("acl.mdl.init_dump before acl.init: call acl.init first",
                           ErrorCode.ACL_ERROR_UNINITIALIZE)
        if self._json_config() is not None:
            raise AclError("dump is already configured by the acl.init JSON \"dump\" section; "
                           "acl.mdl.init_dump cannot start another",
                           ErrorCode.ACL_ERROR_DUMP_ALREADY_RUN)
        with self._lock:
            if self.api_active:
                raise AclError("acl.mdl.init_dump was already called: call "
                               "acl.mdl.finalize_dump first", ErrorCode.ACL_ERROR_DUMP_ALREADY_RUN)
            self.api_active = True
            self.api_config = None
            self.started = time.strftime("%Y%m%d%H%M%S")

    def set_dump(self, config_path: str | None) -> None:
        if not self.api_active:
            raise AclError("acl.mdl.set_dump before acl.mdl.init_dump: call init_dump first",
                           ErrorCode.ACL_ERROR_DUMP_NOT_RUN)
        from openacl.runtime.init_config import read_init_config

        if not config_path:
            raise AclError("acl.mdl.set_dump needs the path of a JSON file with a \"dump\" "
                           "section", ErrorCode.ACL_ERROR_INVALID_FILE)
        config = read_init_config(config_path).dump
        if config is None:
            raise AclError(f"config file {config_path!r} has no \"dump\" section",
                           ErrorCode.ACL_ERROR_INVALID_DUMP_CONFIG)
        self.api_config = config

    def finalize_dump(self) -> None:
        if not self.api_active:
            raise AclError("acl.mdl.finalize_dump without acl.mdl.init_dump",
                           ErrorCode.ACL_ERROR_DUMP_NOT_RUN)
        with self._lock:
            self.api_active = False
            self.api_config = None
        self.detach_all()

    def register_callback(self, function, flag: int) -> None:
        if flag != 0:
            raise InvalidParam(f"flag must be 0 (the data goes to the callback only), not {flag}")
        self.callback = function

    def unregister_callback(self) -> None:
        self.callback = None

    # ------------------------------------------------------------------ models
    def config(self) -> DumpConfig | None:
        """The config in force: set_dump's, the acl.init JSON's, or (init_dump with a
        callback and no set_dump) every layer of every model."""
        if self.api_active:
            if self.api_config is not None:
                return self.api_config
            return DumpConfig.everything() if self.callback is not None else None
        return self._json_config()

    def attach(self, model) -> None:
        """Give ``model``'s executor a recorder if the config in force selects it."""
        config = self.config()
        if config is None or not config.selections:
            return
        from openacl.dump.recorder import ModelDump, model_names

        layers = config.layers_for(model_names(model))
        if layers is None:
            return
        recorder = ModelDump(model, layers, config.mode, config.dump_path, self.started,
                             self.deliver)
        model.executor.dump = recorder
        with self._lock:
            self.recorders.append((model.executor, recorder))

    def detach(self, executor) -> None:
        with self._lock:
            kept = [(e, r) for e, r in self.recorders if e is not executor]
            gone = [r for e, r in self.recorders if e is executor]
            self.recorders = kept
        executor.dump = None
        for recorder in gone:
            recorder.close()

    def detach_all(self) -> None:
        with self._lock:
            recorders, self.recorders = self.recorders, []
        for executor, recorder in recorders:
            executor.dump = None
            recorder.close()

    def deliver(self, path: str, data: bytes) -> None:
        """Write one dump file, or hand it to the callback in chunks instead."""
        callback = self.callback
        if callback is None:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as file:
                file.write(data)
            return
        total = len(data)
        offset = 0
        while True:
            piece = data[offset:offset + CHUNK_BYTES]
            last = offset + len(piece) >= total
            holder = ctypes.create_string_buffer(piece, len(piece))
            chunk = {"file_name": path, "data_buf": ctypes.addressof(holder),
                     "buf_len": len(piece), "is_last_chunk": 1 if last else 0,
                     "offset": offset, "flag": 0}
            try:
                callback(chunk)
            except Exception:  # noqa: BLE001 - pyACL: an exception makes the callback report -1
                import logging

                logging.getLogger("openacl").warning("dump callback raised on %s", path,
                                                     exc_info=True)
                return
            offset += len(piece)
            if last:
                return

    @staticmethod
    def _json_config() -> DumpConfig | None:
        from openacl.runtime import RUNTIME

        config = RUNTIME.config.dump if RUNTIME.initialized else None
        return config if config is not None and config.selections else None


DUMP = DumpState()


def _teardown() -> None:
    """acl.finalize: every recorder detached, init_dump and the callback forgotten."""
    DUMP.detach_all()
    DUMP.reset()


def _register_teardown() -> None:
    from openacl.runtime import RUNTIME

    RUNTIME.add_teardown_hook("dump", _teardown)


_register_teardown()
