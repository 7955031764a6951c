"""pyACL ``acl.prof`` calls over ``openacl.profiling.prof`` (see docs/profiling.md)."""

from __future__ import annotations

from openacl.acl.build import implements
from openacl.errors import InvalidParam
from openacl.profiling.prof import OP_DESC_SIZE, PROF, RECORD, Stamp, StepInfo
from openacl.runtime import pointers

_MAX_LEN = 4096


@implements("prof.create_config")
def create_config(device_ids, aicore_metrics, aicore_events, data_type_config):
    """Return a profiling config handle (0 on failure)."""
    return PROF.create_config(device_ids, aicore_metrics, aicore_events, data_type_config)


@implements("prof.destroy_config")
def destroy_config(config):
    PROF.destroy_config(config)


@implements("prof.init")
def init(result_path):
    """Start a profiling session writing into ``result_path`` (trace.json, summary, PNG)."""
    PROF.init(result_path)


@implements("prof.finalize")
def finalize(*_):
    PROF.finalize()


@implements("prof.start")
def start(config):
    PROF.start(config)


@implements("prof.stop")
def stop(config):
    """Stop collecting; the timeline is written into the init's result_path."""
    PROF.stop(config)


@implements("prof.model_subscribe")
def model_subscribe(model_id, subscribe_config):
    PROF.model_subscribe(model_id, subscribe_config)


@implements("prof.model_unsubscribe")
def model_unsubscribe(model_id):
    """Stop the subscription; the model's operator records go to the config's fd."""
    PROF.model_unsubscribe(model_id)


implements("prof.model_un_subscribe")(model_unsubscribe)


@implements("prof.create_subscribe_config")
def create_subscribe_config(time_info_switch, aicore_metrics, fd):
    return PROF.create_subscribe_config(time_info_switch, aicore_metrics, fd)


@implements("prof.destroy_subscribe_config")
def destroy_subscribe_config(subscribe_config):
    PROF.destroy_subscribe_config(subscribe_config)


@implements("prof.get_op_desc_size")
def get_op_desc_size(*_):
    """The size of one operator record in the subscription's pipe."""
    return OP_DESC_SIZE


def _records(op_info, op_info_len) -> bytes:
    if op_info == 0:
        raise InvalidParam("op_info is NULL (0)")
    if op_info_len == 0 or op_info_len % OP_DESC_SIZE:
        raise InvalidParam(f"op_info_len {op_info_len} is not a multiple of the op desc size "
                           f"{OP_DESC_SIZE} (acl.prof.get_op_desc_size)")
    return pointers.read_bytes(op_info, op_info_len)


def _record(op_info, op_info_len, index):
    data = _records(op_info, op_info_len)
    count = len(data) // OP_DESC_SIZE
    if index >= count:
        raise InvalidParam(f"index {index} is past the {count} operator(s) in op_info")
    model_id, _, start, end, duration, op_type, name = RECORD.unpack_from(
        data, index * OP_DESC_SIZE)
    return (model_id, start, end, duration, op_type.rstrip(b"\0").decode(),
            name.rstrip(b"\0").decode())


@implements("prof.get_op_num")
def get_op_num(op_info, op_info_len):
    return len(_records(op_info, op_info_len)) // OP_DESC_SIZE


def _text(value: str, length: int, what: str) -> str:
    if length > _MAX_LEN:
        raise InvalidParam(f"{what}_len {length} is greater than {_MAX_LEN}")
    if length < len(value.encode()) + 1:
        raise InvalidParam(f"{what}_len {length} is too small for the {what} "
                           f"({len(value.encode()) + 1} with its terminating NUL)")
    return value


@implements("prof.get_op_type")
def get_op_type(op_info, op_info_len, index, op_type_len):
    return _text(_record(op_info, op_info_len, index)[4], op_type_len, "op_type")


@implements("prof.get_op_name")
def get_op_name(op_info, op_info_len, index, op_name_len):
    return _text(_record(op_info, op_info_len, index)[5], op_name_len, "op_name")


@implements("prof.get_op_type_v2")
def get_op_type_v2(op_info, op_info_len, index):
    return _record(op_info, op_info_len, index)[4]


@implements("prof.get_op_name_v2")
def get_op_name_v2(op_info, op_info_len, index):
    return _record(op_info, op_info_len, index)[5]


@implements("prof.get_op_type_len")
def get_op_type_len(op_info, op_info_len, index):
    """The buffer length the op type needs, its terminating NUL included."""
    return len(_record(op_info, op_info_len, index)[4].encode()) + 1


@implements("prof.get_op_name_len")
def get_op_name_len(op_info, op_info_len, index):
    return len(_record(op_info, op_info_len, index)[5].encode()) + 1


@implements("prof.get_op_start")
def get_op_start(op_info, op_info_len, index):
    """Start of the operator's execution, ns."""
    return _record(op_info, op_info_len, index)[1]


@implements("prof.get_op_end")
def get_op_end(op_info, op_info_len, index):
    return _record(op_info, op_info_len, index)[2]


@implements("prof.get_op_duration")
def get_op_duration(op_info, op_info_len, index):
    return _record(op_info, op_info_len, index)[3]


@implements("prof.get_model_id")
def get_model_id(op_info, op_info_len, index):
    return _record(op_info, op_info_len, index)[0]


@implements("prof.create_step_info")
def create_step_info(*_):
    return PROF.handles.add(StepInfo())


@implements("prof.destroy_step_info")
def destroy_step_info(step_info):
    PROF.handles.get(step_info, StepInfo, "step info")
    PROF.handles.remove(step_info)


@implements("prof.get_step_timestamp")
def get_step_timestamp(step_info, tag, stream):
    """Mark the start (tag 0) or end (tag 1) of a step on the timeline."""
    info = PROF.handles.get(step_info, StepInfo, "step info")
    if tag not in (0, 1):
        raise InvalidParam(f"tag {tag} is not ACL_STEP_START (0) or ACL_STEP_END (1)")
    info.stamps.append(tag)
    PROF.mark("step " + ("start" if tag == 0 else "end"))


@implements("prof.create_stamp")
def create_stamp(*_):
    return PROF.handles.add(Stamp())


@implements("prof.destroy_stamp")
def destroy_stamp(stamp):
    PROF.handles.get(stamp, Stamp, "stamp")
    PROF.handles.remove(stamp)


@implements("prof.set_stamp_trace_message")
def set_stamp_trace_message(stamp, msg, msg_len):
    found = PROF.handles.get(stamp, Stamp, "stamp")
    if msg_len > 128 or msg_len > len(msg.encode()) + 1:
        raise InvalidParam(f"msg_len {msg_len} is larger than the message (or than 128)")
    found.message = msg.encode()[:msg_len].decode(errors="ignore")


@implements("prof.mark")
def mark(stamp):
    PROF.mark(PROF.handles.get(stamp, Stamp, "stamp").message)


@implements("prof.mark_ex")
def mark_ex(msg, stream):
    PROF.mark(msg)


@implements("prof.push")
def push(stamp):
    PROF.push(PROF.handles.get(stamp, Stamp, "stamp"))


@implements("prof.pop")
def pop(*_):
    PROF.pop()


@implements("prof.range_start")
def range_start(stamp):
    return PROF.range_start(PROF.handles.get(stamp, Stamp, "stamp"))


@implements("prof.range_stop")
def range_stop(range_id):
    PROF.range_stop(range_id)


@implements("prof.set_config")
def set_config(config_type, config):
    """Remember an aclprofConfigType setting (openacl has no use for them)."""
    PROF.settings[config_type] = config
