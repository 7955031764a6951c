"""Long fuzzing campaigns against the model loaders and atc: what the CI tests sample, at length.

The CI tests (``tests/model/test_corrupt_models.py``, ``tests/atc/test_corrupt_onnx.py``)
draw a bounded, fixed set of mutants with hypothesis. This script draws fresh ones from a
seed for as long as asked, checks the same properties, and prints every distinct finding
once, with the iteration that reproduces it (``--seed S --start I --iterations 1``) and,
with ``--save DIR``, the mutant's bytes::

    python scripts/fuzz_model_files.py --minutes 30                 # loaders and atc
    python scripts/fuzz_model_files.py --iterations 5000 --target loaders --seed 7
    python scripts/fuzz_model_files.py --target atc --families graph,external --save /tmp/f

Exit status: 0 if nothing was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import collections
import logging
import pathlib
import re
import sys
import tempfile
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import acl  # noqa: E402
from tests.atc import atc_fuzz  # noqa: E402
from tests.model import model_fuzz  # noqa: E402

TARGETS = ("loaders", "atc")
ATC_FAMILIES = (*atc_fuzz.SOURCE_MUTATIONS, "shape", "shape_text")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=None, help="mutants to try")
    parser.add_argument("--minutes", type=float, default=None, help="time budget")
    parser.add_argument("--seed", type=int, default=0, help="campaign seed")
    parser.add_argument("--start", type=int, default=0, help="first iteration (to replay)")
    parser.add_argument("--target", choices=(*TARGETS, "both"), default="both")
    parser.add_argument("--families", default="", help="comma-separated mutation families")
    parser.add_argument("--save", type=pathlib.Path, help="folder for the findings' mutants")
    args = parser.parse_args(argv)
    if args.iterations is None and args.minutes is None:
        args.iterations = 1000
    logging.disable(logging.CRITICAL)         # the facade logs each 500000 it returns
    warnings.simplefilter("ignore")           # leak and fidelity warnings are not findings

    work = pathlib.Path(tempfile.mkdtemp(prefix="openacl-fuzz-"))
    corpus = {kind: pathlib.Path(path).read_bytes()
              for kind, path in model_fuzz.build_corpus(work).items()}
    sources = atc_fuzz.build_sources(work)
    targets = TARGETS if args.target == "both" else (args.target,)
    chosen = [f for f in args.families.split(",") if f]
    assert acl.init() == 0 and acl.rt.set_device(0) == 0
    context, _ = acl.rt.create_context(0)

    findings: dict[str, tuple] = {}
    counts: collections.Counter = collections.Counter()
    tried = collections.Counter()
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else None
    iteration = args.start
    started = time.monotonic()
    try:
        while (args.iterations is None or iteration < args.start + args.iterations) and (
                deadline is None or time.monotonic() < deadline):
            choose = model_fuzz.RandomChooser(f"{args.seed}:{iteration}")
            target = choose.choice(targets)
            if target == "loaders":
                family = choose.choice(chosen or sorted(model_fuzz.MUTATIONS))
                kind = choose.choice(sorted(corpus))
                mutant = model_fuzz.MUTATIONS[family](corpus[kind], choose)
                problems = model_fuzz.check_model_bytes(mutant, work).problems
            else:
                family = choose.choice(chosen or ATC_FAMILIES)
                kind = choose.choice(sorted(sources))
                source, flags = sources[kind]
                if family in ("shape", "shape_text"):
                    flags = atc_fuzz.random_shape_flags(flags, choose,
                                                        nasty=family == "shape_text")
                    mutant = model_fuzz.Mutant(source, f"shapes {flags}")
                else:
                    mutant = model_fuzz.MUTATIONS[family](source, choose)
                problems = atc_fuzz.check_atc(mutant, flags, work, must_run=family == "shape")
            tried[(target, family)] += 1
            for problem in problems:
                key = _signature(problem)
                counts[key] += 1
                if key not in findings:
                    findings[key] = (iteration, target, family, kind, mutant.what, problem)
                    print(f"[{iteration}] NEW {target}/{family} on {kind} ({mutant.what}): "
                          f"{problem[:300]}", flush=True)
                    if args.save:
                        args.save.mkdir(parents=True, exist_ok=True)
                        (args.save / f"finding-{len(findings)}-{iteration}.bin").write_bytes(
                            mutant.data)
            iteration += 1
    finally:
        acl.rt.destroy_context(context)
        acl.rt.reset_device(0)
        acl.finalize()
    elapsed = time.monotonic() - started
    total = sum(tried.values())
    print(f"\n{total} mutants in {elapsed:.0f} s (seed {args.seed}, iterations "
          f"{args.start}..{iteration - 1}):")
    for (target, family), count in sorted(tried.items()):
        print(f"  {target:8} {family:14} {count}")
    if not findings:
        print("nothing found")
        return 0
    print(f"{len(findings)} distinct finding(s):")
    for key, (iteration, target, family, kind, what, problem) in findings.items():
        print(f"- x{counts[key]}, first at iteration {iteration} ({target}/{family} on {kind}, "
              f"{what}):\n    {problem[:600]}")
    return 1


def _signature(problem: str) -> str:
    """A finding without its numbers and paths, so repeats of one bug count once."""
    text = re.sub(r"0x[0-9a-f]+|\d+", "N", problem)
    return re.sub(r"/\S+", "PATH", text)[:160]


if __name__ == "__main__":
    sys.exit(main())
