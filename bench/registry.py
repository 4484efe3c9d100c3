"""Name -> class registries of codecs and metrics, with plugins.

A registry knows its built-in classes by name and module (``"x265": "bench.codecs.ffmpeg_codecs:X265"``)
and imports a module only when one of its names is used. Installed packages add classes through
Python entry points in the registry's group (``bench.codecs`` or ``bench.metrics``)::

    [project.entry-points."bench.codecs"]
    my-codec = "my_package.adapter:MyCodec"

The entry point's name is the name the class is known by, and must equal the class's ``name``. A
plugin cannot take a built-in name. Unknown names fail with one line that suggests the nearest
known name.
"""
from __future__ import annotations

import difflib
import importlib
from importlib.metadata import entry_points

from .errors import InputError


class Registry:
    """Classes deriving from ``base``, by name. ``builtins``: name -> ``"module:attribute"``;
    ``aliases``: other name -> registered name (a metric computed together with another one)."""

    def __init__(self, kind: str, base: type, builtins: dict[str, str], aliases: dict[str, str] | None = None):
        self.kind, self.base = kind, base
        self.group = f"bench.{kind}s"
        self.builtins = dict(builtins)
        self.aliases = dict(aliases or {})
        self._specs: dict[str, tuple[str, str]] | None = None  # name -> (target, where it comes from)
        self._loaded: dict[str, type] = {}

    def specs(self) -> dict[str, tuple[str, str]]:
        """Every registered name -> (``module:attribute``, ``built in`` or the plugin's distribution)."""
        if self._specs is None:
            specs = {name: (target, "built in") for name, target in self.builtins.items()}
            for ep in entry_points(group=self.group):
                where = f"plugin {ep.dist.name if ep.dist else ep.value}"
                if ep.name in specs:
                    raise InputError(f"{self.kind} plugin {ep.name!r} ({ep.value}, from {where}) takes the name of "
                                     f"a {self.kind} already registered ({specs[ep.name][1]}); uninstall one of them")
                specs[ep.name] = (ep.value, where)
            self._specs = specs
        return self._specs

    def names(self) -> list[str]:
        return sorted(self.specs())

    def origin(self, name: str) -> str:
        """``built in``, or ``plugin <distribution>``."""
        return self.specs()[self.canonical(name)][1]

    def aliases_of(self, name: str) -> list[str]:
        return [a for a, target in self.aliases.items() if target == name]

    def canonical(self, name: str) -> str:
        """The registered name for ``name`` (an alias resolved); an unknown name is one line."""
        name = self.aliases.get(name, name)
        if name not in self.specs():
            known = self.names()
            close = difflib.get_close_matches(name, known + list(self.aliases), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InputError(f"unknown {self.kind} {name!r} ({hint}known: {', '.join(known)})")
        return name

    def get(self, name: str) -> type:
        """The class registered as ``name`` (or an alias of it), imported on first use."""
        name = self.canonical(name)
        if name not in self._loaded:
            self._loaded[name] = self._load(name)
        return self._loaded[name]

    def create(self, name: str, **kwargs):
        """An instance of the class registered as ``name``."""
        return self.get(name)(**kwargs)

    def _load(self, name: str) -> type:
        target, where = self.specs()[name]
        module, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except Exception as exc:  # noqa: BLE001 - a broken plugin is one line, not a traceback
            raise InputError(f"{self.kind} {name!r} ({target}, {where}) cannot be imported: "
                             f"{type(exc).__name__}: {exc}") from None
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise InputError(f"{self.kind} {name!r} ({target}, {where}) is not a subclass of "
                             f"{self.base.__module__}.{self.base.__name__}")
        if cls.name != name:
            raise InputError(f"{self.kind} {name!r} ({target}, {where}) names itself {cls.name!r}; "
                             f"the entry point's name and the class's name must be the same")
        return cls
