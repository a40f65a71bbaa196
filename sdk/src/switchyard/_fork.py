"""Calling a method of an object in a forked child, without keeping the object alive."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")


def after_fork_in_child(instance: _T, method: Callable[[_T], None]) -> None:
    """Run ``method(instance)`` in every child forked later, while ``instance`` is alive."""
    ref = weakref.ref(instance)

    def hook() -> None:
        alive = ref()
        if alive is not None:
            method(alive)

    os.register_at_fork(after_in_child=hook)
