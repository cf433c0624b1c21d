"""LatestSlot keeps only the newest item (lag never grows) and wakes waiters; RateMeter averages."""

from __future__ import annotations

import threading

import pytest

from livestyle.live.slot import LatestSlot, RateMeter


def test_get_returns_newest_and_counts_replaced_items_as_drops() -> None:
    slot: LatestSlot[int] = LatestSlot()
    for i in range(100):
        slot.put(i)
    assert slot.get(timeout=0) == 99
    assert slot.drops == 99
    assert slot.seq == 100


def test_taken_item_is_not_returned_twice() -> None:
    slot: LatestSlot[str] = LatestSlot()
    slot.put("a")
    assert slot.get(timeout=0) == "a"
    assert slot.get(timeout=0.01) is None
    assert slot.drops == 0


def test_lag_never_grows_with_a_slow_consumer() -> None:
    slot: LatestSlot[int] = LatestSlot()
    taken = []
    for burst in range(5):
        for i in range(10):
            slot.put(burst * 10 + i)
        taken.append(slot.get(timeout=0))
    assert taken == [9, 19, 29, 39, 49]  # always the newest, never a backlog
    assert slot.drops == 45


def test_peek_does_not_consume() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.peek() is None
    slot.put(7)
    assert slot.peek() == 7
    assert slot.get(timeout=0) == 7
    assert slot.peek() == 7  # still the latest, though taken


def test_get_wakes_when_another_thread_puts() -> None:
    slot: LatestSlot[int] = LatestSlot()
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(slot.get(timeout=10)))
    waiter.start()
    slot.put(5)
    waiter.join(timeout=10)
    assert got == [5]


def test_close_wakes_waiters_with_none_and_ignores_later_puts() -> None:
    slot: LatestSlot[int] = LatestSlot()
    got: list[int | None] = []
    waiter = threading.Thread(target=lambda: got.append(slot.get(timeout=10)))
    waiter.start()
    slot.close()
    waiter.join(timeout=10)
    assert not waiter.is_alive()
    assert got == [None]
    slot.put(1)
    assert slot.get(timeout=0) is None and slot.closed


def test_rate_meter_averages_intervals() -> None:
    meter = RateMeter(alpha=0.5)
    assert meter.rate == 0.0
    for i in range(5):
        meter.tick(i * 0.1)
    assert meter.rate == pytest.approx(10.0)
    meter.tick(0.4 + 0.3)  # one slow frame moves the average halfway: 0.1 -> 0.2 s
    assert meter.rate == pytest.approx(5.0)
    meter.reset()
    assert meter.rate == 0.0
