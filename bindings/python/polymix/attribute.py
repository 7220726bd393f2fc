"""mx.AttrScope: attributes given to every symbol created inside a `with` block."""

import threading

__all__ = ["AttrScope"]


class AttrScope:
    """`with mx.AttrScope(ctx_group='dev1'):` adds these string attributes to every symbol made inside."""

    _current = threading.local()

    def __init__(self, **kwargs):
        self._old_scope = None
        for value in kwargs.values():
            if not isinstance(value, str):
                raise ValueError("Attributes need to be string")
        self._attr = kwargs

    def get(self, attr):
        """The scope's attributes updated with `attr` (which wins)."""
        if not self._attr:
            return dict(attr) if attr else {}
        result = dict(self._attr)
        if attr:
            result.update(attr)
        return result

    def __enter__(self):
        self._old_scope = AttrScope.current()
        attr = dict(self._old_scope._attr)
        attr.update(self._attr)
        self._attr = attr
        AttrScope._current.value = self
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        AttrScope._current.value = self._old_scope

    @staticmethod
    def current():
        """This thread's attribute scope."""
        if not hasattr(AttrScope._current, "value"):
            AttrScope._current.value = AttrScope()
        return AttrScope._current.value
