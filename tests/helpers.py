"""Helpers for tests written like pyACL programs."""

import threading


def run_in_thread(function, *args):
    """Run ``function(*args)`` on a new thread; return its result or raise its exception."""
    box = {}

    def target():
        try:
            box["result"] = function(*args)
        except BaseException as error:  # noqa: BLE001 - re-raised on the caller's thread
            box["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the thread did not finish in 60 s"
    if "error" in box:
        raise box["error"]
    return box["result"]
