"""The ``dump`` section of an ACL JSON config (``acl.init`` or ``acl.mdl.set_dump``), checked.

::

    {"dump": {"dump_path": "/tmp/dumps",
              "dump_list": [{"model_name": "resnet50", "layer": ["conv1", "fc"]},
                            {"layer": ["Relu_3"]},        # these layers in every model
                            {"model_name": "yolo"}],      # every layer of one model
              "dump_mode": "output",                      # "input" | "output" | "all"
              "dump_op_switch": "off"}}                   # single-operator dump: "on" | "off"

Other keys of the section (``dump_data``, ``dump_level``, ...) are accepted and ignored.
Every mistake is ``ACL_ERROR_INVALID_DUMP_CONFIG`` (100009) with a message naming the key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from openacl.errors import InvalidDumpConfig

__all__ = ["DumpConfig", "check_section", "DUMP_MODES"]

DUMP_MODES = ("input", "output", "all")


@dataclass(frozen=True)
class Selection:
    """One ``dump_list`` entry: a model (None: every model) and its layers (empty: all)."""

    model_name: str | None
    layers: frozenset[str] = frozenset()


@dataclass(frozen=True)
class DumpConfig:
    """A checked ``dump`` section."""

    dump_path: str
    mode: str = "output"
    op_switch: bool = False
    selections: tuple[Selection, ...] = field(default_factory=tuple)

    @classmethod
    def everything(cls, dump_path: str = "") -> "DumpConfig":
        """Every layer of every model, outputs (init_dump + a callback with no set_dump)."""
        return cls(dump_path, "output", False, (Selection(None),))

    def layers_for(self, names: tuple[str, ...]) -> frozenset[str] | None:
        """The layers to dump of a model known by ``names`` (file stem, graph name):
        None when no entry selects it; an empty set for every layer."""
        chosen: set[str] = set()
        selected = False
        for entry in self.selections:
            if entry.model_name is None or entry.model_name in names:
                if not entry.layers:
                    return frozenset()
                selected = True
                chosen |= entry.layers
        return frozenset(chosen) if selected else None


def check_section(section) -> DumpConfig | None:
    """Check a ``dump`` section; return its DumpConfig (None for a missing section)."""
    if section is None:
        return None
    if not isinstance(section, dict):
        raise InvalidDumpConfig('"dump" must be a JSON object')
    path = section.get("dump_path", "")
    if not isinstance(path, str):
        raise InvalidDumpConfig('"dump.dump_path" must be a string')
    dump_list = section.get("dump_list", [])
    if not isinstance(dump_list, list):
        raise InvalidDumpConfig('"dump.dump_list" must be a list')
    mode = section.get("dump_mode", "output")
    if mode not in DUMP_MODES:
        raise InvalidDumpConfig(f'"dump.dump_mode" must be one of {list(DUMP_MODES)}, '
                                f"not {json.dumps(mode)}")
    switch = section.get("dump_op_switch", "off")
    if switch not in ("on", "off"):
        raise InvalidDumpConfig(f'"dump.dump_op_switch" must be "on" or "off", not '
                                f"{json.dumps(switch)}")
    if (dump_list or switch == "on") and not path:
        raise InvalidDumpConfig('"dump.dump_list" or "dump.dump_op_switch" is set but '
                                '"dump.dump_path" is missing')
    selections = []
    for index, entry in enumerate(dump_list):
        where = f'"dump.dump_list"[{index}]'
        if not isinstance(entry, dict):
            raise InvalidDumpConfig(f"{where} must be an object like "
                                    f'{{"model_name": "net", "layer": ["conv1"]}}')
        name = entry.get("model_name")
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidDumpConfig(f'{where}.model_name must be a non-empty string, not '
                                    f"{json.dumps(name)}")
        layers = entry.get("layer", [])
        if isinstance(layers, str):
            layers = [layers]
        if not isinstance(layers, list) or not all(isinstance(l, str) and l for l in layers):
            raise InvalidDumpConfig(f"{where}.layer must be a list of operator names, not "
                                    f"{json.dumps(layers)}")
        if name is None and not layers:
            raise InvalidDumpConfig(f'{where} names neither "model_name" nor "layer"')
        selections.append(Selection(name, frozenset(layers)))
    return DumpConfig(path, mode, switch == "on", tuple(selections))
