"""The ``openacl`` command: ``openacl demo`` runs the seed's flow on a bundled model."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="openacl", description="openacl: Huawei pyACL (import acl) without an Ascend NPU.")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="run the pyACL model-execution flow on a bundled "
                                            "digits classifier (the default command)")
    demo.add_argument("--images", type=int, default=3, help="images to show top-5 for (3)")
    args = parser.parse_args(argv)
    if args.command in (None, "demo"):
        from openacl.tools import demo as demo_module

        return demo_module.main(images=getattr(args, "images", 3))
    parser.error(f"unknown command {args.command}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
