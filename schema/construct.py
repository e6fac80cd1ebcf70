"""Cheap constructors for the objects the home screens build by the hundred.

A strawberry type is a dataclass: `Cls(name=value, ...)` goes through `type.__call__` and
the generated `__init__` with keyword arguments, ~0.45 µs for a 7-field type here, while
setting the same attributes on `object.__new__(Cls)` from a positional function takes a
third of that. A dashboard builds ~50 result components, their reference ranges, ~20
messages and threads, line items and their Money: `maker` gives such a type that
constructor, checked once at import to set every field `__init__` would (and nothing
else), so the object is the one the dataclass would build (tests/test_construct.py).

`enum_of`: an Enum from its stored value through a dict (`Enum(value)` costs ~0.3 µs,
through the metaclass); a value not in it still raises what `Enum(value)` raises.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")
E = TypeVar("E", bound=Enum)


def maker(cls: type[T], *names: str) -> Callable[..., T]:
    """`f(v1, v2, ...)`: a `cls` whose fields `names` (every field its `__init__` takes, in
    this order) are those values, as `cls(name1=v1, ...)` would make it."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__} is not a dataclass")
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or params.frozen or hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: frozen or with __post_init__, keep its __init__")
    if "__slots__" in cls.__dict__ or any(
        "__slots__" in base.__dict__ for base in cls.__mro__[1:-1]
    ):
        raise TypeError(f"{cls.__name__}: slotted, keep its __init__")
    every = dataclasses.fields(cls)
    expected = [f.name for f in every if f.init]
    if any(
        not f.init
        and (f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING)
        for f in every
    ):
        raise TypeError(f"{cls.__name__}: its __init__ sets a field it takes no value for")
    if sorted(names) != sorted(expected) or len(set(names)) != len(names):
        raise TypeError(f"{cls.__name__}: maker must set exactly {expected}, got {list(names)}")
    for name in names:
        if not name.isidentifier() or name.startswith("__"):
            raise TypeError(f"{cls.__name__}: not a field name: {name!r}")
    sets = "\n".join(f"    o.{name} = {name}" for name in names) or "    pass"
    source = (
        f"def make_{cls.__name__}({', '.join(names)}):\n    o = new(cls)\n{sets}\n    return o\n"
    )
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(source, scope)  # noqa: S102 - our own field names, checked above
    made: Callable[..., T] = scope[f"make_{cls.__name__}"]
    made.__qualname__ = f"maker({cls.__qualname__})"
    return made


def enum_of(cls: type[E]) -> Callable[[Any], E]:
    """`cls(value)` for a stored value, by a dict lookup (the dict's own `__getitem__`: no
    Python frame for a known value; `cls(value)` for any other)."""
    return _Members(cls).__getitem__


class _Members(dict[Any, E]):
    def __init__(self, cls: type[E]) -> None:
        super().__init__({member.value: member for member in cls})
        self.cls = cls

    def __missing__(self, value: Any) -> E:
        return self.cls(value)
