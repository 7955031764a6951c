"""The leak report: what a program left alive at ``acl.finalize`` or at interpreter exit.

Each live resource is one ``Leak`` (its kind, its handle, address or id, its size in bytes
where it has one, and, when ``OPENACL_LEAK_SITES=1``, the program line that created it), so
tests and tools read the report as data: ``LeakWarning.leaks``, or ``last_report()``.

``OPENACL_LEAK_REPORT`` says how much is said: ``summary`` (default: one line per kind, with
counts and bytes), ``full`` (one line per resource) or ``off``. Recording creation sites
costs a walk up the stack at every creation, so it is a separate switch.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from dataclasses import dataclass

__all__ = ["Leak", "LeakWarning", "creation_site", "describe", "report_level", "last_report"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # .../openacl
_last: list["Leak"] = []


@dataclass(frozen=True)
class Leak:
    """One resource still alive when the runtime was torn down."""

    kind: str                    # "device allocation", "stream", "model", "data buffer", ...
    ident: str                   # its handle, address or model id, as the program saw it
    size: int | None = None      # bytes it holds, where that means something
    site: str | None = None      # "app.py:42 in main" when OPENACL_LEAK_SITES=1

    def __str__(self) -> str:
        size = f", {self.size} bytes" if self.size is not None else ""
        site = f", created at {self.site}" if self.site else ""
        return f"{self.kind} {self.ident}{size}{site}"


class LeakWarning(UserWarning):
    """Resources were still alive at ``acl.finalize``; ``.leaks`` lists them."""

    def __init__(self, message: str, leaks: tuple[Leak, ...] = ()):
        super().__init__(message)
        self.leaks = tuple(leaks)


def report_level() -> str:
    level = os.environ.get("OPENACL_LEAK_REPORT", "summary").strip().lower()
    return level if level in ("off", "summary", "full") else "summary"


def sites_enabled() -> bool:
    return os.environ.get("OPENACL_LEAK_SITES", "0").strip().lower() in ("1", "true", "yes", "on")


def creation_site() -> str | None:
    """The program's line that is creating a resource now (if sites are recorded)."""
    if not sites_enabled():
        return None
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(_PACKAGE) or name.startswith("<pyACL")):
            return f"{name}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return None


def describe(leaks: list[Leak], level: str) -> str:
    """The report's text at ``level`` (summary or full)."""
    if level == "full":
        return "; ".join(str(leak) for leak in leaks)
    groups: dict[str, list[Leak]] = defaultdict(list)
    for leak in leaks:
        groups[leak.kind].append(leak)
    parts = []
    for kind, group in groups.items():
        sizes = [leak.size for leak in group if leak.size is not None]
        size = f" of {sum(sizes)} bytes" if sizes else ""
        plural = "s" if len(group) > 1 else ""
        parts.append(f"{len(group)} {kind}{plural}{size} ({', '.join(leak.ident for leak in group[:3])}"
                     f"{', ...' if len(group) > 3 else ''})")
    return "; ".join(parts) + " (OPENACL_LEAK_REPORT=full lists each, OPENACL_LEAK_SITES=1 " \
                              "says where each was created)"


def remember(leaks: list[Leak]) -> None:
    _last[:] = leaks


def last_report() -> list[Leak]:
    """The leaks found by the last finalize (or runtime reset)."""
    return list(_last)
