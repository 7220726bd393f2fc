"""mx.registry: MXNet's name -> class registries behind mx.init.create, mx.metric.create and friends.

Each base class (Initializer, EvalMetric, ...) has one registry of lower-case names. `create` accepts an
instance (returned as it is), a name, a dict of constructor arguments holding the name under the registry's
nickname ('{"metric": "acc"}'), or MXNet's JSON forms '["name", {kwargs}]' and '{"nickname": ...}'.
"""

import json
import warnings

from .base import string_types

_REGISTRY = {}


def get_registry(base_class):
    """A copy of the name -> class registry of `base_class`."""
    return dict(_REGISTRY.setdefault(base_class, {}))


def get_register_func(base_class, nickname):
    """A decorator registering subclasses of `base_class` under their lower-case class name (or `name`)."""
    registry = _REGISTRY.setdefault(base_class, {})

    def register(klass, name=None):
        if not (isinstance(klass, type) and issubclass(klass, base_class)):
            raise TypeError("Can only register subclass of %s, got %r" % (base_class.__name__, klass))
        name = (klass.__name__ if name is None else name).lower()
        if name in registry and registry[name] is not klass:
            warnings.warn("New %s %s.%s registered with name %s is overriding existing %s %s.%s"
                          % (nickname, klass.__module__, klass.__name__, name, nickname,
                             registry[name].__module__, registry[name].__name__), UserWarning, stacklevel=2)
        registry[name] = klass
        return klass

    register.__doc__ = "Register %s to the %s factory" % (nickname, nickname)
    return register


def get_alias_func(base_class, nickname):
    """A decorator factory registering a class under extra names: @alias('acc')."""
    register = get_register_func(base_class, nickname)

    def alias(*aliases):
        def reg(klass):
            for name in aliases:
                register(klass, name)
            return klass
        return reg

    return alias


def get_create_func(base_class, nickname):
    """The `create(name_or_instance, *args, **kwargs)` function of `base_class`'s registry."""
    registry = _REGISTRY.setdefault(base_class, {})

    def create(*args, **kwargs):
        if args:
            name, args = args[0], args[1:]
        else:
            if nickname not in kwargs:
                raise TypeError("create() needs the %s name, positionally or as %s=" % (nickname, nickname))
            name = kwargs.pop(nickname)
        if isinstance(name, base_class):
            if args or kwargs:
                raise ValueError("%s is already an instance. Additional arguments are invalid" % nickname)
            return name
        if isinstance(name, dict):
            return create(**name)
        if not isinstance(name, string_types):
            raise TypeError("%s must be of string type, got %s" % (nickname, type(name).__name__))
        if name.startswith("[") or name.startswith("{"):
            if args or kwargs:
                raise ValueError("%s given as JSON takes no other arguments" % nickname)
            parsed = json.loads(name)
            if isinstance(parsed, dict):
                return create(**parsed)
            name, kwargs = parsed
            return create(name, **kwargs)
        key = name.lower()
        if key not in registry:
            raise ValueError("%s is not registered. Please register with %s.register first (registered: %s)"
                             % (name, nickname, ", ".join(sorted(registry))))
        return registry[key](*args, **kwargs)

    create.__doc__ = ("Create a %s instance from config: a name, an instance (returned as it is), a dict or "
                      "MXNet's JSON form." % nickname)
    return create
