"""Handler slots (bot.runtime.Slots): a freed slot goes to the longest-waiting listener,
and a listener coming back from a wait goes before listeners that have not started."""

from __future__ import annotations

import threading
import time

from supportbot.bot.runtime import Slots


def queue_up(slots: Slots, name: str, order: list[str], *, returning: bool = False) -> threading.Thread:
    def take() -> None:
        slots.acquire(returning=returning)
        order.append(name)

    thread = threading.Thread(target=take)
    thread.start()
    time.sleep(0.05)  # in line before the next one
    return thread


def test_a_freed_slot_goes_to_the_longest_waiting_thread() -> None:
    slots = Slots(1)
    assert slots.acquire()
    order: list[str] = []
    threads = [queue_up(slots, name, order) for name in ("first", "second", "third")]
    assert not slots.acquire(blocking=False)  # others are waiting: no barging in
    for expected in ("first", "second", "third"):
        slots.release()
        threads.pop(0).join(2)
        assert order[-1] == expected
    slots.release()
    assert slots.acquire(blocking=False)


def test_a_thread_back_from_a_wait_goes_before_threads_that_have_not_started() -> None:
    slots = Slots(1)
    assert slots.acquire()
    order: list[str] = []
    threads = [
        queue_up(slots, "new 1", order),
        queue_up(slots, "new 2", order),
        queue_up(slots, "back from the database", order, returning=True),
    ]
    for _ in threads:
        slots.release()
        time.sleep(0.05)
    for thread in threads:
        thread.join(2)
    assert order == ["back from the database", "new 1", "new 2"]


def test_a_wait_that_times_out_leaves_the_line() -> None:
    slots = Slots(1)
    assert slots.acquire()
    assert not slots.acquire(timeout=0.05)
    slots.release()  # nobody is waiting any more: the slot is free again
    assert slots.acquire(blocking=False)
    assert not slots.acquire(blocking=False)
