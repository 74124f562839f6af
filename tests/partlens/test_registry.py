from __future__ import annotations

import pytest

from partlens.registry import Registry, UnknownNameError


def test_decorator_registers_and_returns_the_entry():
    registry: Registry[object] = Registry("widget")

    @registry.register("square")
    def square(x: int) -> int:
        return x * x

    assert registry.get("square") is square
    assert square(3) == 9
    assert registry.names() == ["square"]
    assert "square" in registry and len(registry) == 1


def test_unknown_name_lists_the_known_ones():
    registry: Registry[int] = Registry("widget")
    registry.add("a", 1)
    registry.add("b", 2)
    with pytest.raises(UnknownNameError, match=r"unknown widget 'c'; choose one of a, b"):
        registry.get("c")
    with pytest.raises(ValueError):  # UnknownNameError is a ValueError for every caller
        registry.get(["not", "hashable"])  # type: ignore[arg-type]


def test_a_name_is_registered_once():
    registry: Registry[int] = Registry("widget")
    registry.add("a", 1)
    with pytest.raises(ValueError, match="already registered"):
        registry.add("a", 2)
    assert registry.get("a") == 1


def test_names_keep_registration_order():
    registry: Registry[int] = Registry("widget")
    for i, name in enumerate(["z", "a", "m"]):
        registry.add(name, i)
    assert list(registry) == ["z", "a", "m"]
