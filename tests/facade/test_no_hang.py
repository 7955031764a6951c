"""Waits that can never end return a code; waits pyACL would sit in are explained.

Each scenario runs under a watchdog (``run_in_thread``'s 60 s join): a regression fails the
test instead of hanging CI. Every scenario is a pyACL program written the samples' way.
"""

import threading
import time

import pytest

import acl
from openacl import FidelityWarning
from tests.helpers import run_in_thread

ACL_SUCCESS = 0
ACL_ERROR_RT_PARAM_INVALID = 107000
ACL_ERROR_RT_THREAD_SUBSCRIBE = 107012
ACL_ERROR_RT_STREAM_NO_CB_REG = 107015
ACL_CALLBACK_NO_BLOCK, ACL_CALLBACK_BLOCK = 0, 1
PROMPT = 5.0      # seconds: "at once", generously, on a loaded 2-core machine


def _exited_thread_id() -> int:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    return thread.ident


def test_subscribing_a_thread_that_does_not_exist_is_refused(context):
    stream, _ = acl.rt.create_stream()
    for thread_id in (_exited_thread_id(), 123456789):
        assert acl.rt.subscribe_report(thread_id, stream) == ACL_ERROR_RT_PARAM_INVALID
        assert "not a live thread" in acl.get_recent_err_msg()
    # Nothing was subscribed: launching is refused, synchronize returns at once.
    assert acl.rt.launch_callback(print, None, 0, stream) == ACL_ERROR_RT_STREAM_NO_CB_REG
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_callbacks_whose_report_thread_exited_fail_at_synchronize(context):
    stream, _ = acl.rt.create_stream()
    leave = threading.Event()

    def report_once(ctx):
        acl.rt.set_context(ctx)
        leave.wait(60)                       # exits without ever calling process_report

    thread_id, ret = acl.util.start_thread(report_once, context)
    assert ret == ACL_SUCCESS
    assert acl.rt.subscribe_report(thread_id, stream) == ACL_SUCCESS
    ran = []
    assert acl.rt.launch_callback(ran.append, 1, ACL_CALLBACK_NO_BLOCK, stream) == ACL_SUCCESS
    assert acl.rt.launch_callback(ran.append, 2, ACL_CALLBACK_BLOCK, stream) == ACL_SUCCESS
    leave.set()
    assert acl.util.stop_thread(thread_id) == ACL_SUCCESS

    started = time.monotonic()
    ret, message = run_in_thread(_synchronize, context, stream)
    assert ret == ACL_ERROR_RT_STREAM_NO_CB_REG
    assert time.monotonic() - started < PROMPT
    assert f"report thread {thread_id}" in message and "has exited" in message
    assert ran == []
    # The stream is usable again; a new launch says at once why it cannot work.
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.launch_callback(ran.append, 3, 0, stream) == ACL_ERROR_RT_STREAM_NO_CB_REG
    assert "has exited" in acl.get_recent_err_msg()
    assert acl.rt.unsubscribe_report(thread_id, stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def _synchronize(context, stream):
    acl.rt.set_context(context)
    ret = acl.rt.synchronize_stream(stream)
    return ret, acl.get_recent_err_msg()     # the message belongs to this thread


def test_process_report_forever_returns_when_its_stream_goes_away(context):
    for unsubscribe in (True, False):
        stream, _ = acl.rt.create_stream()
        subscribed, results = threading.Event(), []

        def serve():
            acl.rt.set_context(context)
            subscribed.wait(60)
            results.append(acl.rt.process_report(-1))
            results.append(acl.get_recent_err_msg())

        thread = threading.Thread(target=serve)
        thread.start()
        assert acl.rt.subscribe_report(thread.ident, stream) == ACL_SUCCESS
        subscribed.set()
        time.sleep(0.1)                      # let it block in process_report(-1)
        if unsubscribe:
            assert acl.rt.unsubscribe_report(thread.ident, stream) == ACL_SUCCESS
        else:
            assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
        thread.join(PROMPT)
        assert not thread.is_alive(), "process_report(-1) did not return"
        assert results[0] == ACL_ERROR_RT_THREAD_SUBSCRIBE
        assert "stopped serving any stream" in results[1]
        if unsubscribe:
            assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def test_reset_event_before_synchronize_event_never_hangs(context):
    stream, _ = acl.rt.create_stream()
    event, _ = acl.rt.create_event()
    for round_ in range(200):
        assert acl.rt.record_event(event, stream) == ACL_SUCCESS
        assert acl.rt.reset_event(event, stream) == ACL_SUCCESS
        assert run_in_thread(_synchronize_event, context, event) == ACL_SUCCESS, round_
    # With the reset still queued behind slow work while synchronize waits.
    gate = threading.Event()
    me = threading.get_ident()
    assert acl.rt.subscribe_report(me, stream) == ACL_SUCCESS
    assert acl.rt.launch_callback(lambda _: gate.wait(60), None, ACL_CALLBACK_BLOCK,
                                  stream) == ACL_SUCCESS
    assert acl.rt.record_event(event, stream) == ACL_SUCCESS
    assert acl.rt.reset_event(event, stream) == ACL_SUCCESS
    waiter = threading.Thread(target=lambda: results.append(_synchronize_event(context, event)))
    results = []
    waiter.start()
    gate.set()
    deadline = time.monotonic() + PROMPT
    while waiter.is_alive() and time.monotonic() < deadline:
        acl.rt.process_report(10)
    waiter.join(PROMPT)
    assert results == [ACL_SUCCESS]
    assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert acl.rt.unsubscribe_report(me, stream) == ACL_SUCCESS
    assert acl.rt.destroy_event(event) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS


def _synchronize_event(context, event):
    acl.rt.set_context(context)
    return acl.rt.synchronize_event(event)


def test_a_long_wait_names_what_it_waits_for(context, monkeypatch):
    monkeypatch.setenv("OPENACL_WAIT_WARNING", "0.3")
    stream, _ = acl.rt.create_stream()
    late, ran = threading.Event(), []

    def serve_late():
        late.wait(60)                        # alive, but not calling process_report yet
        while not ran:
            acl.rt.process_report(10)

    thread = threading.Thread(target=serve_late)
    thread.start()
    assert acl.rt.subscribe_report(thread.ident, stream) == ACL_SUCCESS
    assert acl.rt.launch_callback(ran.append, 1, ACL_CALLBACK_NO_BLOCK, stream) == ACL_SUCCESS
    timer = threading.Timer(1.0, late.set)
    timer.start()
    with pytest.warns(FidelityWarning, match=r"still waiting .* host callback"):
        assert acl.rt.synchronize_stream(stream) == ACL_SUCCESS
    assert ran == [1]
    thread.join(PROMPT)
    assert acl.rt.unsubscribe_report(thread.ident, stream) == ACL_SUCCESS
    assert acl.rt.destroy_stream(stream) == ACL_SUCCESS
