"""When :class:`ShapeGraphs` captures, replays and gives up (the capture itself is exercised
on a GPU in tests/test_gpu.py; here a stand-in records what would be captured)."""

from __future__ import annotations

import numpy as np

from simwidgets.models.shape_graphs import ShapeGraphs


class Replayed:
    def __init__(self, calls):
        self.calls = calls

    def replay(self):
        self.calls.append("replay")


class Ids(np.ndarray):
    """A numpy array with the two tensor methods ShapeGraphs uses."""

    def clone(self):
        return self.copy().view(Ids)

    def copy_(self, other, non_blocking=False):
        self[...] = other
        return self


def ids(rows, width, fill=1):
    return np.full((rows, width), fill).view(Ids)


def lengths(rows, width):
    return np.full(rows, width).view(Ids)


def graphs_with_stand_in(calls, fail=False, **options):
    def step(i, n, uniform):
        calls.append(("eager", i.shape, uniform))
        return i.sum(1)

    graphs = ShapeGraphs(step, **options)

    def capture(i, n, uniform):
        if fail:
            raise RuntimeError("operation not permitted when stream is capturing")
        calls.append(("capture", i.shape, uniform))
        static_i, static_n = i.clone(), n.clone()
        return Replayed(calls), static_i, static_n, static_i  # the "output" is the static input

    graphs._capture = capture
    return graphs


def test_a_shape_is_captured_on_its_second_sighting_and_replayed_after():
    calls = []
    graphs = graphs_with_stand_in(calls)
    graphs(ids(4, 8), lengths(4, 8), True)
    graphs(ids(4, 8, fill=2), lengths(4, 8), True)
    out = graphs(ids(4, 8, fill=3), lengths(4, 8), True)
    assert calls == [("eager", (4, 8), True), ("capture", (4, 8), True), "replay", "replay"]
    assert (out == 3).all()  # the replay read the new ids
    graphs(ids(4, 8), lengths(4, 8), False)  # a masked batch of the same shape is another graph
    assert calls[-1] == ("eager", (4, 8), False)
    assert graphs.summary() == {"graphs": 1, "graph_replays": 2}


def test_past_the_limit_new_shapes_run_eagerly():
    calls = []
    graphs = graphs_with_stand_in(calls, after=0, limit=1)
    graphs(ids(2, 8), lengths(2, 8), True)
    graphs(ids(2, 16), lengths(2, 16), True)
    graphs(ids(2, 16), lengths(2, 16), True)
    assert calls == [("capture", (2, 8), True), "replay", ("eager", (2, 16), True), ("eager", (2, 16), True)]


def test_past_the_byte_budget_new_shapes_run_eagerly():
    calls = []
    graphs = graphs_with_stand_in(calls, after=0, max_bytes=1)
    graphs(ids(2, 8), lengths(2, 8), True)
    graphs(ids(2, 16), lengths(2, 16), True)
    assert calls == [("capture", (2, 8), True), "replay", ("eager", (2, 16), True)]
    assert graphs.bytes > 0 and graphs.full


def test_a_failed_capture_falls_back_to_eager_for_good_and_says_why():
    calls = []
    graphs = graphs_with_stand_in(calls, fail=True, after=0)
    out = graphs(ids(2, 8), lengths(2, 8), True)
    assert (out == 8).all()
    graphs(ids(2, 16), lengths(2, 16), True)
    assert calls == [("eager", (2, 8), True), ("eager", (2, 16), True)]
    assert "not permitted" in graphs.summary()["graphs_failed"]
