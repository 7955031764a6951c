"""The ``openacl`` command: ``openacl demo`` runs the seed's flow on a bundled model.

Other subcommands live in their own modules, imported only when used; each module has
``main(argv) -> int`` and parses its own arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["main"]

# subcommand -> (module with main(argv), one-line help)
_COMMANDS = {
    "batch": ("openacl.batch.cli", "run an .om over a folder or dataset on Ray Data"),
    "compare": ("openacl.precision.compare_cli",
                "per-layer accuracy of a model at its precision against fp32"),
    "profile": ("openacl.profiling.cli", "run a program with profiling on: timeline, summary"),
    "dump-compare": ("openacl.dump.compare_cli",
                     "per-operator error between two dump folders"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _COMMANDS:
        module = importlib.import_module(_COMMANDS[argv[0]][0])
        return module.main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="openacl", description="openacl: Huawei pyACL (import acl) without an Ascend NPU.")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run the pyACL model-execution flow on a bundled "
                                            "digits classifier (the default command)")
    demo.add_argument("--images", type=int, default=3, help="images to show top-5 for (3)")
    for name, (_, text) in _COMMANDS.items():
        commands.add_parser(name, help=text, add_help=False)
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):
        from openacl.tools import demo as demo_module

        return demo_module.main(images=getattr(args, "images", 3))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
