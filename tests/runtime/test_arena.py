"""The arena's aligned allocation (DVPP buffers start on 128-byte boundaries)."""

from openacl.runtime.arena import Arena


def test_aligned_blocks_leave_their_head_free_for_later_blocks():
    arena = Arena(1 << 20, "test", "device")
    first = arena.allocate(64)                        # arena base is page aligned
    aligned = arena.allocate(256, align=128)
    assert aligned % 128 == 0 and aligned == first + 128
    gap = arena.allocate(64)                          # the 64-byte head skipped above
    assert gap == first + 64
    assert arena.used == 64 + 256 + 64
    for address, size in ((first, 64), (aligned, 256), (gap, 64)):
        arena.release(address, size)
    assert arena.used == 0
    assert arena.allocate(1 << 20) == first           # everything merged back into one block


def test_an_aligned_block_that_does_not_fit_is_refused():
    arena = Arena(4096, "test", "device")
    assert arena.allocate(64) is not None
    assert arena.allocate(4096 - 64, align=128) is None
    assert arena.allocate(4096 - 128, align=128) is not None
