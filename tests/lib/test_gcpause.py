import gc
import threading

import pytest

from gasworks.lib.gcpause import gc_paused


def test_it_pauses_the_collector_and_restores_it_after_the_outermost_batch():
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer batch is still running
    assert gc.isenabled()


def test_it_restores_the_collector_after_an_error_and_as_a_decorator():
    @gc_paused()
    def batch():
        assert not gc.isenabled()
        raise ValueError

    with pytest.raises(ValueError):
        batch()
    assert gc.isenabled()


def test_it_leaves_a_collector_that_was_off_off():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_threads_share_one_pause_until_the_last_one_ends():
    inside, release = threading.Event(), threading.Event()

    def other():
        with gc_paused():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with gc_paused():
        thread.start()
        inside.wait(5)
    assert not gc.isenabled()  # the other thread's batch is still running
    release.set()
    thread.join(5)
    assert gc.isenabled()
