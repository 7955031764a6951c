"""timeline.png: what the picture shows, worked out from the recorded events of a real run.

The program is the sample-style app of ``test_profile_cli`` (load, then copy in, execute,
copy out, synchronize on one stream), run in this process with the recorder on.
"""

from __future__ import annotations

import pathlib
import runpy
import sys

import matplotlib.image
import pytest

from openacl.profiling import picture, recorder

APP = pathlib.Path(__file__).with_name("profiled_app.py")


@pytest.fixture(scope="module")
def recorded():
    argv = sys.argv
    sys.argv = [str(APP), "3"]
    recorder.start(output=None, ops=True)
    try:
        runpy.run_path(str(APP), run_name="__main__")
    finally:
        recorder.stop(write=False)
        sys.argv = argv
    events = recorder.events()
    # How long the real load took depends on what ran before (ONNX Runtime warms up once per
    # process); a 1 s acl.init on the same host lane, before it all, makes "the device work
    # is a sliver of the run" hold whatever the load took.
    first = min(events, key=lambda e: e[3])
    return [("api", "acl.init", first[2], first[3] - 1_000_000_000, first[3] - 1000, None),
            *events]


def _ms(recorded, event):
    origin = min(e[3] for e in recorded)
    return (event[3] - origin) / 1e6, (event[4] - origin) / 1e6


def test_every_event_is_drawn_on_its_lane(recorded):
    rows, (whole, *_) = picture.panels(recorded)
    kinds = {kind for kind, *_ in recorded}
    assert {"api", "task", "op"} <= kinds
    assert len(rows) == len({(k == "task", k == "op", lane) for k, _, lane, *_ in recorded})
    assert sum(len(bars) for bars in whole.bars.values()) == len(recorded)
    for (row, kind), bars in whole.bars.items():
        assert rows[row].startswith({"api": "host thread", "copy": "host thread",
                                     "task": "stream", "op": "model"}[kind])


def test_a_run_dominated_by_loading_gets_a_panel_on_the_device_work(recorded):
    _, drawn = picture.panels(recorded)
    assert len(drawn) == 2
    whole, work = drawn
    device = [_ms(recorded, e) for e in recorded if e[0] in ("task", "op")]
    low, high = work.window
    assert all(low <= start and end <= high for start, end in device)
    assert high - low < 0.5 * (whole.window[1] - whole.window[0])
    # the zoomed panel shows the device work and the API calls around it, nothing else
    drawn_bars = [bar for bars in work.bars.values() for bar in bars]
    assert all(start < high and start + width > low for start, width in drawn_bars)
    assert sum(len(bars) for (_, kind), bars in work.bars.items() if kind in ("task", "op")) \
        == len(device)


def test_the_widest_bars_are_named(recorded):
    rows, (whole, work) = picture.panels(recorded)
    widest = max((e for e in recorded if e[0] == "api"), key=lambda e: e[4] - e[3])
    assert whole.labels[0][2] == widest[1] == "acl.init"
    names = {e[1] for e in recorded} | {f"memcpy {e[5]['bytes']} B" for e in recorded
                                         if e[0] == "copy"}
    for panel in (whole, work):
        for middle, row, text in panel.labels:
            assert panel.window[0] <= middle <= panel.window[1]
            assert text in names or any(n.startswith(text[:-1]) for n in names
                                        if text.endswith("…"))
    assert any(text.startswith("execute_async") for _, _, text in work.labels)


def test_work_filling_the_run_needs_no_second_panel():
    ms = 1_000_000
    recorded = [("api", "acl.mdl.execute_async", 1, 0, 1 * ms, None),
                ("task", "execute_async of model 1", "stream 0x1", 1 * ms, 9 * ms, None),
                ("api", "acl.rt.synchronize_stream", 1, 1 * ms, 10 * ms, None)]
    rows, drawn = picture.panels(recorded)
    assert rows == ["host thread 1", "stream 0x1"]
    assert len(drawn) == 1 and drawn[0].window == (0.0, 10.0)
    assert [text for _, _, text in drawn[0].labels] == [
        "acl.rt.synchronize_stream", "execute_async of model 1",
        "acl.mdl.execute_as…"]          # 1 ms of 10: room for 19 characters, not 21


def test_the_png_has_both_panels(recorded, tmp_path):
    path = tmp_path / "timeline.png"
    picture.write(str(path), recorded)
    single = tmp_path / "single.png"
    picture.write(str(single), [e for e in recorded if e[0] in ("task", "op")])
    tall, short = matplotlib.image.imread(path), matplotlib.image.imread(single)
    assert tall.shape[1] == short.shape[1] == 1400
    assert tall.shape[0] > 1.5 * short.shape[0]
