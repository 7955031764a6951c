"""Stateful fuzzing of the public ``acl`` API (a hypothesis RuleBasedStateMachine).

``machine.py`` holds the machine, ``world.py`` the model of the runtime it checks results
against, ``harness.py`` the call wrapper that enforces the invariants of every call, and
``nets.py`` the tiny ONNX models it loads. ``test_api_machine.py`` runs it in CI;
``scripts/fuzz_api.py`` runs longer campaigns.
"""
