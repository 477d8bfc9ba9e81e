"""A stream's inbox: order kept, a waiting taker woken, closing drains then ends."""

import pytest
import trio
import trio.testing

from shunt.frontdoor.inbox import Inbox


def test_items_come_out_in_order_and_put_back_goes_first():
    inbox: Inbox[int] = Inbox()
    for i in range(3):
        assert inbox.put(i)
    taken = [inbox.take_nowait(), inbox.take_nowait()]
    inbox.put_back(taken)
    assert [inbox.take_nowait() for _ in range(3)] == [0, 1, 2]
    with pytest.raises(trio.WouldBlock):
        inbox.take_nowait()


def test_closing_refuses_puts_and_ends_after_what_is_queued():
    inbox: Inbox[str] = Inbox()
    inbox.put("last")
    inbox.close()
    assert not inbox.put("late")
    assert inbox.take_nowait() == "last"
    with pytest.raises(trio.EndOfChannel):
        inbox.take_nowait()


async def test_a_waiting_taker_is_woken_by_a_put_and_by_close():
    inbox: Inbox[int] = Inbox()
    got: list[object] = []

    async def taker() -> None:
        got.append(await inbox.take())
        try:
            await inbox.take()
        except trio.EndOfChannel:
            got.append("end")

    async with trio.open_nursery() as nursery:
        nursery.start_soon(taker)
        await trio.testing.wait_all_tasks_blocked()
        inbox.put(7)
        await trio.testing.wait_all_tasks_blocked()
        assert got == [7]
        inbox.close()
    assert got == [7, "end"]


async def test_a_cancelled_take_leaves_the_items_for_the_next():
    inbox: Inbox[int] = Inbox()
    with trio.move_on_after(0.01):
        await inbox.take()
    inbox.put(1)
    assert await inbox.take() == 1
