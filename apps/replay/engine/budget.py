"""The spend cap, in the engine's event loop: reserve the worst case before a request, settle after.

Invariant: spent + reserved ≤ cap, where every amount was written to PostgreSQL before the
request it pays for was sent (the ledger does that; `reserve` waits for it). A reservation is
released only after the settlement that replaces it is written, so the stored figures never
count less than what may have been spent, and never more than the cap, even if the worker dies
at any moment. Simulated requests cost nothing real and reserve nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Budget:
    def __init__(self, *, cap: int, spent: int, persist: Callable[[int, int, int], Awaitable[None]]):
        self.cap = cap
        self.spent = spent
        self.reserved = 0
        self.held_by_waiters = 0
        self._persist = persist  # (item_id, amount, the item's reservations in total) → written
        self._changed = asyncio.Event()

    def fits(self, amount: int) -> bool:
        return self.spent + self.reserved + amount <= self.cap

    async def reserve(self, item_id: int, amount: int, *, holding: int = 0) -> bool:
        """Reserve `amount` for an item (already holding `holding`): True once written, False at the cap.

        Waits while other reservations are in flight (their settlements may free enough); gives
        up when the only reservations left are held by items that are themselves waiting here.
        """
        while not self.fits(amount):
            if self.reserved - self.held_by_waiters - holding <= 0:
                return False
            self.held_by_waiters += holding
            self._changed.clear()
            try:
                await self._changed.wait()
            finally:
                self.held_by_waiters -= holding
        self.reserved += amount
        try:
            await self._persist(item_id, amount, holding + amount)
        except BaseException:
            self.reserved -= amount
            raise
        return True

    def settled(self, *, reserved: int, charged: int) -> None:
        """An item's settlement is written: its reservations are replaced by what it was charged."""
        self.reserved -= reserved
        self.spent += charged
        self._changed.set()

    def wake(self) -> None:
        self._changed.set()


class Fenced(Exception):
    """Another worker took the job over (its lease expired): this one must stop sending."""
