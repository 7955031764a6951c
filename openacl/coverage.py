"""Print how much of the pyACL call table openacl implements: ``python -m openacl.coverage``.

Measured from the table and the registered implementations, never claimed by hand.
Add ``--missing`` to list the calls not implemented yet.
"""

from __future__ import annotations

import argparse
from collections import Counter

import openacl.acl  # noqa: F401  (registers the implementations)
from openacl.acl.build import CALLS, implemented_keys

__all__ = ["coverage", "main"]


def coverage() -> dict[str, tuple[int, int]]:
    """Return {module: (implemented, total)}."""
    done = implemented_keys()
    total = Counter(call.module for call in CALLS)
    implemented = Counter(call.module for call in CALLS if call.key in done)
    return {module: (implemented[module], total[module]) for module in total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openacl.coverage", description=__doc__)
    parser.add_argument("--missing", action="store_true", help="list calls not implemented yet")
    args = parser.parse_args(argv)
    done = implemented_keys()
    all_done = all_total = 0
    for module, (implemented, total) in coverage().items():
        name = "acl" if module == "acl" else f"acl.{module}"
        print(f"{name:<9} {implemented:>3}/{total:<3} {100 * implemented / total:5.1f}%")
        all_done += implemented
        all_total += total
    print(f"{'total':<9} {all_done:>3}/{all_total:<3} {100 * all_done / all_total:5.1f}%")
    if args.missing:
        print("\nnot implemented yet:")
        for call in CALLS:
            if call.key not in done:
                print(f"  {call.signature}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
