"""One registry idiom for every pluggable concept: architectures, datasets, filter-loss variants.

Entries are registered by decorator (``@ARCHITECTURES.register("tiny")``) or, for plain value
objects, with :meth:`Registry.add`. Lookups of unknown names raise :class:`UnknownNameError`
(a ``ValueError``) whose message lists the known names, so the CLI, the API and the UI can
show it as it is and derive their choices from :meth:`Registry.names`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(ValueError):
    """A name that no entry of the registry has."""


class Registry(Generic[T]):
    """Named entries of one kind, in registration order."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def add(self, name: str, entry: T) -> T:
        """Registers ``entry`` under ``name``; a name can be registered once."""
        if name in self._entries:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._entries[name] = entry
        return entry

    def register(self, name: str) -> Callable[[T], T]:
        """A decorator that registers the decorated function or class under ``name``."""

        def decorate(entry: T) -> T:
            return self.add(name, entry)

        return decorate

    def get(self, name: str) -> T:
        """The entry named ``name``; :class:`UnknownNameError` lists the known names."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            known = ", ".join(self._entries)
            raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of {known}") from None

    def names(self) -> list[str]:
        """Every registered name, in registration order."""
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
