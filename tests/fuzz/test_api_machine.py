"""CI run of the pyACL state machine: reproducible (derandomized, no example database).

Set OPENACL_FUZZ_EXAMPLES / OPENACL_FUZZ_STEPS for a bigger run here, or use
``scripts/fuzz_api.py`` for campaigns with a time budget and a seed.
"""

import os

import pytest
from hypothesis import settings

from tests.fuzz.machine import AclMachine

EXAMPLES = int(os.environ.get("OPENACL_FUZZ_EXAMPLES", "200"))
STEPS = int(os.environ.get("OPENACL_FUZZ_STEPS", "50"))

pytestmark = [
    # Expected noise of misuse: host memory as model buffers, device memory read from the
    # host, reads clamped to a bytes object (FidelityWarning); numpy_to_ptr is deprecated.
    pytest.mark.filterwarnings("ignore::openacl.FidelityWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

TestAclMachine = AclMachine.TestCase
TestAclMachine.settings = settings(max_examples=EXAMPLES, stateful_step_count=STEPS,
                                   deadline=None, derandomize=True, database=None,
                                   print_blob=True)


def test_the_run_was_long_enough():
    """Runs after the machine: CI must have taken at least 2,000 steps (when not narrowed)."""
    stats = AclMachine.STATS
    print(f"\npyACL state machine: {stats['machines']} runs, {stats['steps']} steps, "
          f"{stats['calls']} calls")
    if stats["machines"] and EXAMPLES >= 200 and STEPS >= 50:
        assert stats["steps"] >= 2000, dict(stats)
