"""mx.name: automatic names of symbols ('fullyconnected0'), and Prefix to prepend a string to them."""

import threading

__all__ = ["NameManager", "Prefix"]


class NameManager:
    """Gives symbols created without a name one made of a hint and a counter ('fullyconnected0'). Each manager
    counts on its own, as MXNet's does: `with NameManager():` starts fresh counters for its block, and the
    enclosing manager's counters carry on unchanged after it."""

    _current = threading.local()

    def __init__(self):
        self._counter = {}
        self._old_manager = None

    def get(self, name, hint):
        """`name` if given, else the next automatic name for `hint` (the function's name, lowercased)."""
        if name:
            return name
        count = self._counter.get(hint, 0)
        self._counter[hint] = count + 1
        return "%s%d" % (hint, count)

    def __enter__(self):
        self._old_manager = NameManager.current()
        NameManager._current.value = self
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
