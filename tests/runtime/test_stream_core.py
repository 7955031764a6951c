"""The stream worker: FIFO order, failures tagged and reported at synchronize."""

import threading

import pytest

from openacl.errors import AclError, InvalidParam, StreamSyncTimeout
from openacl.runtime.stream import Stream


class _Owner:
    """A stand-in context: a stream needs only something to belong to."""


def test_fifo_and_failure_reported_once_at_synchronize():
    stream = Stream(_Owner(), 0)
    gate = threading.Event()
    order = []
    stream.submit(gate.wait, "wait for the gate")
    stream.submit(lambda: order.append(1), "first")

    def fail():
        raise InvalidParam("bad thing")

    stream.submit(fail, "failing task")
    stream.submit(lambda: order.append(2), "after the failure")   # continue-on-failure
    assert not stream.idle
    with pytest.raises(StreamSyncTimeout):
        stream.synchronize(timeout=0.05)
    gate.set()
    with pytest.raises(AclError) as caught:
        stream.synchronize(timeout=10)
    assert caught.value.code == 100000 and "failing task" in caught.value.message
    assert order == [1, 2]
    stream.synchronize(timeout=10)                    # reported once only
    stream.close()


def test_stop_on_failure_skips_later_tasks():
    stream = Stream(_Owner(), 1)
    stream.failure_mode = 1
    ran = []

    def fail():
        raise InvalidParam("first failure")

    stream.submit(fail, "failing task")
    stream.submit(lambda: ran.append(1), "skipped")
    with pytest.raises(AclError):
        stream.synchronize(timeout=10)
    assert ran == []
    stream.close()


def test_a_bug_in_a_task_becomes_an_internal_error_and_the_worker_survives():
    stream = Stream(_Owner(), 2)
    stream.submit(lambda: 1 / 0, "buggy task")
    with pytest.raises(AclError) as caught:
        stream.synchronize(timeout=10)
    assert caught.value.code == 500000 and "ZeroDivisionError" in caught.value.message
    done = []
    stream.submit(lambda: done.append(True), "next")
    stream.synchronize(timeout=10)
    assert done == [True]
    stream.close()


def test_close_without_drain_drops_waiting_tasks():
    stream = Stream(_Owner(), 3)
    gate = threading.Event()
    ran = []
    stream.submit(gate.wait, "blocker")
    for i in range(5):
        stream.submit(lambda i=i: ran.append(i), f"task {i}")
    closer = threading.Thread(target=stream.close, kwargs={"drain": False})
    closer.start()
    gate.set()
    closer.join(10)
    assert not closer.is_alive() and ran == [] and stream.idle
