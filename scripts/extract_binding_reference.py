"""Extract the per-function facts of Huawei's pyACL binding into tests/facade/binding_reference.tsv.

The source is ``../shared/spec/binding-reference.md`` (facts read from Huawei's binding,
``hicann/runtime`` ``python/pyACL/``). The TSV is committed so that the conformance test
(`tests/facade/test_conformance.py`) checks openacl against the binding's facts, not against
openacl's own call table. Re-run after the reference changes:

    python scripts/extract_binding_reference.py ../shared/spec/binding-reference.md
"""

from __future__ import annotations

import pathlib
import re
import sys

_SECTION = re.compile(r"^### 3\.\d+ `([\w.]+)`")
_ROW = re.compile(r"^\| `(\w+)` \| (.*?) \| (.*?) \| (.*?) \| (.*?) \| (.*) \|$")
COLUMNS = ("module", "name", "format", "args", "build", "returns", "gil", "notes")
OUT = pathlib.Path(__file__).resolve().parents[1] / "tests" / "facade" / "binding_reference.tsv"


def rows(text: str):
    module = None
    for line in text.splitlines():
        section = _SECTION.match(line)
        if section:
            module = section.group(1)
            continue
        row = _ROW.match(line)
        if not row or module is None:
            continue
        name, fmt, args, built, gil, notes = row.groups()
        fmt = fmt.strip("`").replace("\\|", "|") if fmt != "—" else "-"
        args = "" if args == "—" else args
        build, _, returns = built.partition(" → ")
        yield (module, name, fmt, args, build.strip("`"), returns.strip(),
               "released" if gil.strip() == "✓" else "", notes.replace("\t", " "))


def main(argv: list[str]) -> int:
    source = pathlib.Path(argv[1] if len(argv) > 1 else "../shared/spec/binding-reference.md")
    table = list(rows(source.read_text(encoding="utf-8")))
    lines = ["\t".join(COLUMNS)] + ["\t".join(r) for r in table]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(table)} functions -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
