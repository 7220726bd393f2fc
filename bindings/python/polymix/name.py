"""mx.name: automatic names of symbols ('fullyconnected0'), and Prefix to prepend a string to them."""

import threading

from . import _core

__all__ = ["NameManager", "Prefix"]


class NameManager:
    """Gives symbols created without a name one made of a hint and a counter. `with NameManager():` starts
    fresh counters for its block, as MXNet's does."""

    _current = threading.local()

    def __init__(self):
        self._old_manager = None

    def get(self, name, hint):
        """`name` if given, else the next automatic name for `hint` (the function's name, lowercased)."""
        if name:
            return name
        return _core.new_name(hint)

    def __enter__(self):
        self._old_manager = NameManager.current()
        NameManager._current.value = self
        _core.reset_names()
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        NameManager._current.value = self._old_manager

    @staticmethod
    def current():
        """This thread's name manager."""
        if not hasattr(NameManager._current, "value"):
            NameManager._current.value = NameManager()
        return NameManager._current.value


class Prefix(NameManager):
    """Prepends `prefix` to every name, given or automatic: `with mx.name.Prefix('net_'):`."""

    def __init__(self, prefix):
        super().__init__()
        self._prefix = prefix

    def get(self, name, hint):
        return self._prefix + super().get(name, hint)
