"""acl.init / finalize / version / soc name / recent error message / app_log, as apps call them."""

import json
import logging
import threading

import pytest

import acl
from tests.helpers import run_in_thread

ACL_SUCCESS = 0
ACL_ERROR_INVALID_PARAM = 100000
ACL_ERROR_REPEAT_INITIALIZE = 100002
ACL_ERROR_INVALID_FILE = 100003
ACL_ERROR_PARSE_FILE = 100006
ACL_ERROR_INVALID_DUMP_CONFIG = 100009
ACL_ERROR_REPEAT_FINALIZE = 100037
ACL_ERROR_FAILURE = 500001
ACL_ERROR_RT_CONTEXT_NULL = 107002


def test_init_finalize_and_repeats():
    assert acl.init() == ACL_SUCCESS
    assert acl.init() == ACL_ERROR_REPEAT_INITIALIZE
    assert "acl.init was already called" in acl.get_recent_err_msg()
    assert acl.finalize() == ACL_SUCCESS
    assert acl.finalize() == ACL_ERROR_REPEAT_FINALIZE
    # The runtime stays usable: a new cycle works.
    assert acl.init("") == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def test_finalize_reference_counts_inits():
    assert acl.init() == ACL_SUCCESS
    assert acl.init() == ACL_ERROR_REPEAT_INITIALIZE
    assert acl.finalize_reference() == (1, ACL_SUCCESS)
    assert acl.finalize_reference() == (0, ACL_SUCCESS)
    assert acl.finalize() == ACL_ERROR_REPEAT_FINALIZE


def _write(tmp_path, text):
    path = tmp_path / "acl.json"
    path.write_text(text)
    return str(path)


def test_init_reads_a_valid_config(tmp_path):
    config = {"dump": {"dump_path": str(tmp_path), "dump_list": [], "dump_mode": "output"},
              "profiler": {"switch": "off"}, "err_msg_mode": "0", "unknown_key": 1}
    assert acl.init(_write(tmp_path, json.dumps(config))) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


@pytest.mark.parametrize("text, code", [
    ("{not json", ACL_ERROR_PARSE_FILE),
    ("[1, 2]", ACL_ERROR_PARSE_FILE),
    ('{"err_msg_mode": 1}', ACL_ERROR_INVALID_PARAM),
    ('{"dump": {"dump_mode": "sideways"}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"dump": {"dump_list": [{"model_name": "m"}]}}', ACL_ERROR_INVALID_DUMP_CONFIG),
    ('{"profiler": {"switch": "maybe"}}', ACL_ERROR_INVALID_PARAM),
    ('{"defaultDevice": {"default_device": "01"}}', ACL_ERROR_FAILURE),
    ('{"defaultDevice": {"default_device": "\u0660"}}', ACL_ERROR_FAILURE),   # Arabic-Indic 0
])
def test_init_rejects_a_bad_config_and_stays_usable(tmp_path, text, code):
    assert acl.init(_write(tmp_path, text)) == code
    assert acl.get_recent_err_msg()
    assert acl.init() == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def test_init_with_missing_file(tmp_path):
    assert acl.init(str(tmp_path / "missing.json")) == ACL_ERROR_INVALID_FILE
    assert "does not exist" in acl.get_recent_err_msg()


def test_empty_config_file_means_defaults(tmp_path):
    assert acl.init(_write(tmp_path, "")) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def test_default_device_config_gives_an_implicit_context(tmp_path):
    assert acl.init(_write(tmp_path, '{"defaultDevice": {"default_device": "0"}}')) == 0
    ptr, ret = acl.rt.malloc(64, 0)           # no set_device: the default device serves
    assert ret == ACL_SUCCESS and ptr
    assert acl.rt.get_device() == (0, ACL_SUCCESS)
    assert acl.rt.free(ptr) == ACL_SUCCESS
    assert acl.rt.reset_device(0) == ACL_SUCCESS
    assert acl.finalize() == ACL_SUCCESS


def test_version_and_soc_name(monkeypatch):
    assert acl.get_version() == (1, 17, 0, ACL_SUCCESS)
    assert acl.get_soc_name() is None            # nothing known before init
    monkeypatch.setenv("OPENACL_SOC_NAME", "Ascend310B4")
    assert acl.init() == ACL_SUCCESS
    assert acl.get_soc_name() == "Ascend310B4"
    assert acl.finalize() == ACL_SUCCESS


def test_recent_error_message_is_per_thread_and_cleared_by_reading():
    assert acl.get_recent_err_msg() is None
    assert acl.rt.get_context() == (0, ACL_ERROR_RT_CONTEXT_NULL)

    def other_thread():
        return acl.get_recent_err_msg()

    assert run_in_thread(other_thread) is None   # the failure belongs to this thread
    message = acl.get_recent_err_msg()
    assert "acl.rt.get_context" in message and "107002" in message and "set_device" in message
    assert acl.get_recent_err_msg() is None      # reading cleared it
    # A successful call does not clear it.
    assert acl.rt.get_context()[1] == ACL_ERROR_RT_CONTEXT_NULL
    assert acl.get_version()[-1] == ACL_SUCCESS
    assert acl.get_recent_err_msg() is not None


def test_process_wide_error_messages(tmp_path):
    assert acl.init(_write(tmp_path, '{"err_msg_mode": "1"}')) == ACL_SUCCESS
    run_in_thread(acl.rt.get_context)
    assert "acl.rt.get_context" in acl.get_recent_err_msg()
    assert acl.finalize() == ACL_SUCCESS


def test_app_log_goes_to_python_logging(caplog):
    with caplog.at_level(logging.DEBUG, logger="acl.app"):
        assert acl.app_log(2, "careful") is None
        assert acl.app_log(3, "broken") is None
    assert [(r.levelno, r.message) for r in caplog.records] == [
        (logging.WARNING, "careful"), (logging.ERROR, "broken")]


def test_float16_bits_round_trip():
    import numpy as np

    for value in (0.0, 1.0, -2.5, 65504.0, 0.1):
        bits = acl.float_to_float16(value)
        assert bits == int(np.float16(value).view(np.uint16))
        assert acl.float16_to_float(bits) == float(np.float16(value))


def test_calls_from_many_threads_keep_their_own_messages():
    results = {}

    def worker(index):
        acl.rt.get_context()
        results[index] = acl.get_recent_err_msg()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8 and all("107002" in m for m in results.values())
