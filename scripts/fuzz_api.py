#!/usr/bin/env python
"""Long fuzzing campaigns of the pyACL API: the state machine of tests/fuzz, for longer.

Each round runs the hypothesis state machine ``tests.fuzz.machine.AclMachine`` with its own
seed (``--seed``, then ``--seed + 1``, ...) until the number of runs or the time budget is
spent. A failure is printed with hypothesis' reproducing output (the steps, and the
``@reproduce_failure`` blob); the campaign goes on with the next round unless ``--stop``.

    python scripts/fuzz_api.py --seconds 600 --steps 60 --seed 7
    python scripts/fuzz_api.py --examples 2000 --report     # and which calls answered what

Exit status: 0 when no failure was found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

for _name in ("OPENACL_STRICT", "OPENACL_RUN_MODE", "OPENACL_DEVICE_COUNT",
              "OPENACL_DEVICE_MEMORY", "OPENACL_SOC_NAME"):
    os.environ.pop(_name, None)     # the defaults the machine models, as tests/conftest.py

from hypothesis import HealthCheck, seed, settings  # noqa: E402
from hypothesis.stateful import get_state_machine_test  # noqa: E402

from openacl import FidelityWarning  # noqa: E402
from openacl.runtime import LeakWarning  # noqa: E402
from tests.fuzz.machine import AclMachine  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=None,
                        help="runs of the machine in all (default: unbounded with --seconds, "
                             "else 500)")
    parser.add_argument("--seconds", type=float, default=None, help="time budget")
    parser.add_argument("--steps", type=int, default=50, help="most steps in one run")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first round")
    parser.add_argument("--round", type=int, default=50, help="runs per round (one seed each)")
    parser.add_argument("--stop", action="store_true", help="stop at the first failure")
    parser.add_argument("--no-shrink", action="store_true",
                        help="report failures as found (faster, longer step lists)")
    parser.add_argument("--report", action="store_true",
                        help="print how often each call gave each answer")
    args = parser.parse_args(argv)
    examples = args.examples if args.examples is not None else (
        None if args.seconds is not None else 500)

    warnings.simplefilter("ignore", FidelityWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("error", LeakWarning)           # as pyproject.toml's pytest config
    phases = None
    if args.no_shrink:
        from hypothesis import Phase

        phases = [Phase.explicit, Phase.reuse, Phase.generate]
    start = time.monotonic()
    done, round_index, failures = 0, 0, []
    while True:
        if examples is not None and done >= examples:
            break
        if args.seconds is not None and time.monotonic() - start >= args.seconds:
            break
        count = args.round if examples is None else min(args.round, examples - done)
        round_seed = args.seed + round_index
        # too_slow: a run of many steps that loads models and starts threads is slow by
        # design; hypothesis would otherwise stop a long campaign over it.
        options = dict(max_examples=count, stateful_step_count=args.steps, deadline=None,
                       database=None, derandomize=False, print_blob=True,
                       suppress_health_check=[HealthCheck.too_slow])
        if phases is not None:
            options["phases"] = phases
        test = seed(round_seed)(get_state_machine_test(AclMachine, settings=settings(**options)))
        machines_before = AclMachine.STATS["machines"]
        try:
            test()
        except Exception as error:  # noqa: BLE001 - every failure is reported, then we go on
            text = "".join(traceback.format_exception(error))
            failures.append((round_seed, text))
            print(f"\n=== failure in round {round_index} (seed {round_seed}) ===\n{text}",
                  flush=True)
            if args.stop:
                break
        done += count
        round_index += 1
        stats = AclMachine.STATS
        print(f"round {round_index} (seed {round_seed}): "
              f"{stats['machines'] - machines_before} runs; total {stats['steps']} steps, "
              f"{stats['calls']} calls, {time.monotonic() - start:.0f} s", flush=True)

    stats = AclMachine.STATS
    print(f"\n{round_index} round(s), {stats['machines']} runs, {stats['steps']} steps, "
          f"{stats['calls']} pyACL calls in {time.monotonic() - start:.1f} s; "
          f"{len(failures)} failure(s)")
    for round_seed, _ in failures:
        print(f"  failing round: --seed {round_seed} --examples {args.round} --steps {args.steps}")
    if args.report:
        print("\ncall, answer: times")
        for (call, answer), times in sorted(AclMachine.OUTCOMES.items(),
                                            key=lambda item: (item[0][0], str(item[0][1]))):
            print(f"  {call:40} {answer!s:>14}: {times}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
