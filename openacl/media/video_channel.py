"""What VDEC and VENC channels share (dvpp-api.md §11.2, §11.4, §12.2): the report thread,
end of stream and destruction.

A channel codes each frame in the sending thread, under the channel's lock, so a send
returns once its frame is in the codec (callers reuse their input buffer; ACL's send
synchronises its internal stream likewise), and an application's threads never wait on a
hand-off between threads of ours. Each finished frame becomes a host callback on the
channel's own *frames* stream, which ``*_create_channel`` subscribes to the report thread
named in the channel desc: callbacks run in frame order inside that thread's
``acl.rt.process_report``, three arguments each. The program never calls
``subscribe_report`` itself.

End of stream and destruction wait until every frame sent before has been called back.
What would deadlock an NPU (waiting from the report thread itself, which then never runs
the callbacks) is refused with a message instead; a report thread that has exited is
reported, never waited for.
"""

from __future__ import annotations

import threading
import weakref

from openacl.errors import InvalidParam
from openacl.runtime.leaks import Leak
from openacl.runtime.runtime import RUNTIME
from openacl.runtime.stream import Stream

__all__ = ["VideoChannel"]

_LIVE: "weakref.WeakSet[VideoChannel]" = weakref.WeakSet()


class VideoChannel:
    """A created VDEC or VENC channel: subclasses code the frames, this delivers them."""

    kind = "video"                     # "VDEC" / "VENC", in messages

    def __init__(self, channel_id: int, callback, thread_id: int):
        self.context = RUNTIME.current_context()
        self.channel_id = channel_id
        self.callback = callback
        self.thread_id = thread_id
        self.lock = threading.RLock()      # one frame at a time in the codec
        self.frames = Stream(self.context, self.context.device.next_stream_id(),
                             name=f"{self.kind} channel {channel_id} (callbacks)")
        self.closed = False
        RUNTIME.reports.subscribe(thread_id, self.frames)
        _LIVE.add(self)

    def check_open(self) -> None:
        if self.closed:
            raise InvalidParam(f"{self.kind} channel {self.channel_id} was destroyed: create "
                               f"a new one before sending frames")

    def deliver(self, input_handle: int, output_handle: int, user_data, done=None) -> None:
        """Queue the program's callback for one frame on the report thread.
        ``done()`` runs after the callback, whatever happens to it."""
        callback = self.callback

        def call(_):
            try:
                callback(input_handle, output_handle, user_data)
            finally:
                if done is not None:
                    done()

        try:
            RUNTIME.reports.post(call, None, self.frames)
        except Exception:
            if done is not None:
                done()
            raise

    # ------------------------------------------------------------------ end of stream
    def _refuse_on_report_thread(self, what: str) -> None:
        if threading.get_ident() == self.thread_id:
            raise InvalidParam(
                f"cannot {what} of {self.kind} channel {self.channel_id} from its report "
                f"thread {self.thread_id}: the call waits for the channel's callbacks, which "
                f"only that thread runs (on an NPU this deadlocks); do it from another thread")

    def finish(self, end_of_stream, what: str = "end the stream") -> None:
        """Run ``end_of_stream()`` after the frames sent so far, then wait until every
        callback has returned."""
        self._refuse_on_report_thread(what)
        with self.lock:
            end_of_stream()
        self.frames.synchronize()

    def destroy(self, end_of_stream) -> None:
        """Flush (every sent frame is called back), then release the callback stream and
        the report thread's subscription."""
        self.check_open()
        self._refuse_on_report_thread("destroy the channel")
        try:
            self.finish(end_of_stream, "destroy the channel")
        finally:
            self._close()

    def _close(self) -> None:
        self.closed = True
        _LIVE.discard(self)
        self.frames.close(drain=False)


def _live_channels() -> list[Leak]:
    return [Leak(f"{channel.kind} channel", str(channel.channel_id), None, None)
            for channel in list(_LIVE)]


def _close_all() -> None:
    """Finalize: channels never destroyed stop; callbacks not yet run are dropped."""
    for channel in list(_LIVE):
        channel._close()


RUNTIME.add_teardown_hook("video channels", _close_all, _live_channels)
