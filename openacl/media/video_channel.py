"""What VDEC and VENC channels share (dvpp-api.md §11.2, §11.4, §12.2): two internal
streams, the report thread, end of stream and destruction.

As in ACL, a channel owns a *work* stream, where its codec runs frame after frame, and a
*frames* stream, which it subscribes to the report thread named in its channel desc: each
finished frame becomes a host callback launched there, so callbacks run in frame order
inside that thread's ``acl.rt.process_report``, three arguments each. The program never
calls ``subscribe_report`` itself.

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
from openacl.runtime.report import ACL_CALLBACK_NO_BLOCK
from openacl.runtime.runtime import RUNTIME
from openacl.runtime.stream import Stream

__all__ = ["VideoChannel"]

_QUEUE_DEPTH = 8          # frames a channel takes ahead of its codec before send blocks
_CLOSE_SECONDS = 5.0      # at finalize, how long a frame being coded may hold a channel

_LIVE: "weakref.WeakSet[VideoChannel]" = weakref.WeakSet()


class VideoChannel:
    """A created VDEC or VENC channel: subclasses code the frames, this delivers them."""

    kind = "video"                     # "VDEC" / "VENC", in messages

    def __init__(self, channel_id: int, callback, thread_id: int):
        self.context = RUNTIME.current_context()
        self.channel_id = channel_id
        self.callback = callback
        self.thread_id = thread_id
        device = self.context.device
        name = f"{self.kind} channel {channel_id}"
        self.work = Stream(self.context, device.next_stream_id(), name=f"{name} (codec)")
        self.frames = Stream(self.context, device.next_stream_id(),
                             name=f"{name} (callbacks)")
        self.closed = False
        try:
            RUNTIME.reports.subscribe(thread_id, self.frames)
        except Exception:
            self.work.close()
            raise
        _LIVE.add(self)
        RUNTIME.add_teardown_hook("video channels", _close_all, _live_channels)

    # ------------------------------------------------------------------ frames
    def check_open(self) -> None:
        if self.closed:
            raise InvalidParam(f"{self.kind} channel {self.channel_id} was destroyed: create "
                               f"a new one before sending frames")

    def submit(self, run, label: str) -> None:
        """Queue one frame's coding; wait while the channel already holds a full queue
        (the hardware's input queue is bounded too)."""
        ticket = self.work.submit(run, label)
        if ticket > _QUEUE_DEPTH:
            self.work.wait_for(ticket - _QUEUE_DEPTH)

    def deliver(self, input_handle: int, output_handle: int, user_data, done=None) -> None:
        """Call the program back for one frame on the report thread (from the work stream).
        ``done()`` runs after the callback, whatever happens to it."""
        callback = self.callback

        def call(_):
            try:
                callback(input_handle, output_handle, user_data)
            finally:
                if done is not None:
                    done()

        try:
            RUNTIME.reports.launch(call, None, ACL_CALLBACK_NO_BLOCK, self.frames)
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
        """Queue ``end_of_stream()`` after the frames sent so far and wait until it ran and
        every callback has returned."""
        self._refuse_on_report_thread(what)
        self.work.submit(end_of_stream, f"{self.kind} end of stream")
        self.work.synchronize()
        self.frames.synchronize()

    def destroy(self, end_of_stream) -> None:
        """Flush (every sent frame is called back), then release the streams and the report
        thread's subscription."""
        self.check_open()
        self._refuse_on_report_thread("destroy the channel")
        try:
            self.finish(end_of_stream, "destroy the channel")
        finally:
            self._close(drain=True)

    def _close(self, drain: bool) -> None:
        self.closed = True
        _LIVE.discard(self)
        timeout = None if drain else _CLOSE_SECONDS
        self.work.close(drain, timeout)
        self.frames.close(drain, timeout)


def _live_channels() -> list[Leak]:
    return [Leak(f"{channel.kind} channel", str(channel.channel_id), None, None)
            for channel in list(_LIVE)]


def _close_all() -> None:
    """Finalize: channels never destroyed stop without running what they still hold."""
    for channel in list(_LIVE):
        channel._close(drain=False)
