"""Plugin lints: extra checks that run inside the kernel gate, after the built-in lints.

Write a lint as a function of the resolved world (a dict) returning findings::

    import conjure.plugins

    @conjure.plugins.lint("short-names", description="event names under three characters")
    def short_names(world):
        for ev in world["scene"].get("events", []):
            if len(ev["name"]) < 3:
                yield {"path": f"event[{ev['name']}].name", "message": "name the event for the player"}

Each finding is a dict (or an object with these attributes): ``message`` (str,
required), ``path`` (str, default ``"world"``), ``severity`` (``"warning"`` default or
``"info"``), ``loc`` (dict, optional). Its lint id is always ``plugin.<name>``.

Installed distributions publish lints through the entry-point group
``conjure.lints``; they are discovered once per process. Lints are advisory: an
operator may opt a plugin into ``error`` (its warnings then block writes) with
:func:`configure` or ``CONJURE_PLUGINS_ERROR``, and disable plugins with
``CONJURE_PLUGINS_DISABLED``. A plugin that raises, returns garbage or fails to load
produces one ``plugin-error`` diagnostic; it never breaks the gate.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Literal

__all__ = [
    "ENTRY_POINT_GROUP",
    "Finding",
    "LintPlugin",
    "lint",
    "register_lint",
    "unregister_lint",
    "registered",
    "discover",
    "configure",
    "active_plugins",
]

ENTRY_POINT_GROUP = "conjure.lints"
NAME_PATTERN = re.compile(r"^[a-z0-9_.-]+$")
_MAX_NAME = 100

LintFunc = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class Finding:
    """A plugin lint's finding (a dict with the same keys works too)."""

    message: str
    path: str = "world"
    severity: Literal["warning", "info"] = "warning"
    loc: dict[str, Any] | None = None


class LintPlugin:
    """A named plugin lint: calling it runs the lint on a resolved world."""

    __slots__ = ("name", "func", "description", "source", "allow_error")

    def __init__(self, name: str, func: LintFunc, *, description: str = "", source: str = "") -> None:
        check_name(name)
        if not callable(func):
            raise TypeError(f"plugin lint {name!r}: {func!r} is not callable")
        self.name = name
        self.func = func
        self.description = description or (func.__doc__ or "").strip().split("\n")[0]
        self.source = source
        self.allow_error = False

    @property
    def id(self) -> str:
        """The lint id: ``plugin.<name>``."""
        return f"plugin.{self.name}"

    def __call__(self, world: dict[str, Any]) -> Any:
        return self.func(world)

    def with_policy(self, allow_error: bool) -> LintPlugin:
        """A copy of this plugin with the operator's severity policy attached."""
        copy = LintPlugin.__new__(LintPlugin)
        for slot in LintPlugin.__slots__:
            setattr(copy, slot, getattr(self, slot))
        copy.allow_error = allow_error
        return copy

    def __repr__(self) -> str:
        return f"LintPlugin({self.id!r})"


class PluginLoadError(Exception):
    """An installed plugin could not be loaded."""


class _BrokenPlugin(LintPlugin):
    """Stands in for an entry point that failed to load: reports the failure as plugin-error."""

    __slots__ = ("problem",)

    def __init__(self, name: str, problem: str, source: str) -> None:
        super().__init__(name, self._fail, source=source, description="(failed to load)")
        self.problem = problem

    def _fail(self, world: dict[str, Any]) -> Any:
        raise PluginLoadError(self.problem)

    def with_policy(self, allow_error: bool) -> LintPlugin:
        return self


def check_name(name: str) -> None:
    """Raises ValueError unless ``name`` is a valid plugin lint name ([a-z0-9_.-]+)."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or len(name) > _MAX_NAME:
        raise ValueError(
            f"plugin lint name {name!r} must be 1-{_MAX_NAME} characters of a-z, 0-9, '_', '.', '-'"
        )


_lock = threading.RLock()
_registry: dict[str, LintPlugin] = {}
_discovered: list[LintPlugin] | None = None
_config: tuple[frozenset[str] | None, frozenset[str], frozenset[str]] | None = None


def register_lint(name: str, fn: LintFunc, *, description: str = "") -> LintPlugin:
    """Registers ``fn`` as the plugin lint ``plugin.<name>`` in this process.

    Registering the same function again is a no-op; another function under a taken
    name raises ValueError.
    """
    plugin = fn if isinstance(fn, LintPlugin) and fn.name == name else LintPlugin(name, fn, description=description)
    with _lock:
        existing = _registry.get(name)
        if existing is not None and existing.func is not plugin.func:
            raise ValueError(f"a plugin lint named {name!r} is already registered ({existing.func!r})")
        if existing is None:
            _registry[name] = plugin
        return _registry[name]


def lint(name: str, *, description: str = "") -> Callable[[LintFunc], LintPlugin]:
    """Decorator: registers the function as the plugin lint ``plugin.<name>``."""
    check_name(name)

    def decorate(fn: LintFunc) -> LintPlugin:
        return register_lint(name, fn, description=description)

    return decorate


def unregister_lint(name: str) -> bool:
    """Removes a lint registered in this process; True when there was one."""
    with _lock:
        return _registry.pop(name, None) is not None


def registered() -> list[LintPlugin]:
    """The lints registered in this process (decorator or register_lint), by name."""
    with _lock:
        return [_registry[k] for k in sorted(_registry)]


def _safe_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-") or "unnamed"
    return name[:_MAX_NAME]


def _plugins_from(obj: Any, ep_name: str, source: str) -> list[LintPlugin]:
    """The lints an entry point's object provides: a LintPlugin, a callable, or an
    object/module exposing ``lints`` (an iterable of those, or a dict name -> callable)."""
    lints = getattr(obj, "lints", None)
    if isinstance(obj, LintPlugin):
        return [obj]
    if lints is not None and not isinstance(obj, type):
        items = lints() if callable(lints) and not isinstance(lints, LintPlugin) else lints
        out: list[LintPlugin] = []
        if isinstance(items, dict):
            items = [LintPlugin(k, v, source=source) for k, v in items.items()]
        for item in items:
            if isinstance(item, LintPlugin):
                out.append(item)
            elif callable(item):
                out.append(LintPlugin(f"{ep_name}.{_safe_name(getattr(item, '__name__', 'lint'))}", item, source=source))
            else:
                raise TypeError(f"`lints` holds {type(item).__name__}, not a lint")
        return out
    if callable(obj):
        return [LintPlugin(ep_name, obj, source=source)]
    raise TypeError(f"{type(obj).__name__} is neither a lint nor an object exposing `lints`")


def discover(refresh: bool = False) -> list[LintPlugin]:
    """Installed plugin lints (entry-point group ``conjure.lints``), loaded once and cached.

    An entry point that fails to load becomes a stand-in that reports the failure as a
    ``plugin-error`` diagnostic when the gate runs.
    """
    global _discovered
    with _lock:
        if _discovered is not None and not refresh:
            return list(_discovered)
        found: dict[str, LintPlugin] = {}
        try:
            entry_points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        except Exception as exc:  # a broken installation must not break the gate
            entry_points = []
            found["entry-points"] = _BrokenPlugin("entry-points", f"listing entry points failed: {exc}", "")
        for ep in sorted(entry_points, key=lambda e: (e.name, e.value)):
            source = f"{ep.name} = {ep.value}"
            try:
                plugins = _plugins_from(ep.load(), _safe_name(ep.name), source)
            except Exception as exc:
                name = _safe_name(ep.name)
                found[name] = _BrokenPlugin(
                    name, f"failed to load entry point '{source}': {type(exc).__name__}: {exc}", source
                )
                continue
            for plugin in plugins:
                other = found.get(plugin.name)
                if other is not None and other.func is not plugin.func:
                    found[plugin.name] = _BrokenPlugin(
                        plugin.name,
                        f"two installed plugins define the lint '{plugin.name}' ({other.source}; {source})",
                        source,
                    )
                else:
                    found[plugin.name] = plugin
        _discovered = [found[k] for k in sorted(found)]
        return list(_discovered)


def _names(value: Iterable[str] | str | None) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    out = set()
    for item in value:
        item = item.strip().lower()
        if item.startswith("plugin."):
            item = item[len("plugin.") :]
        if item:
            out.add(item)
    return frozenset(out)


def configure(
    enabled: Iterable[str] | None = None,
    error_plugins: Iterable[str] = (),
    disabled: Iterable[str] = (),
) -> None:
    """Sets the operator's plugin policy for this process (it replaces the environment's).

    Names match a lint's name (``prose.opening``), its id (``plugin.prose.opening``) or
    a dotted prefix (``prose`` matches every ``prose.*`` lint); ``*`` matches all.

    Args:
        enabled: only these plugins run (None: all installed and registered ones).
        error_plugins: plugins opted into ``error``: their warnings become errors and
            block writes. Other plugins are advisory (``error`` is capped to ``warning``).
        disabled: plugins that never run.
    """
    global _config
    with _lock:
        _config = (_names(enabled), _names(error_plugins) or frozenset(), _names(disabled) or frozenset())


def reset_configuration() -> None:
    """Forgets :func:`configure`'s policy; the environment applies again."""
    global _config
    with _lock:
        _config = None


def _policy() -> tuple[frozenset[str] | None, frozenset[str], frozenset[str]]:
    with _lock:
        if _config is not None:
            return _config
    enabled_env = os.environ.get("CONJURE_PLUGINS_ENABLED")
    return (
        _names(enabled_env) if enabled_env else None,
        _names(os.environ.get("CONJURE_PLUGINS_ERROR", "")) or frozenset(),
        _names(os.environ.get("CONJURE_PLUGINS_DISABLED", "")) or frozenset(),
    )


def _matches(name: str, patterns: frozenset[str]) -> bool:
    if "*" in patterns or name in patterns:
        return True
    return any(name.startswith(p + ".") for p in patterns)


def active_plugins() -> list[LintPlugin]:
    """The plugin lints the gate runs now: registered plus discovered, filtered and with
    the operator's severity policy attached, ordered by name."""
    enabled, error_plugins, disabled = _policy()
    merged: dict[str, LintPlugin] = {p.name: p for p in discover()}
    for plugin in registered():
        merged.setdefault(plugin.name, plugin)
    out = []
    for name in sorted(merged):
        if enabled is not None and not _matches(name, enabled):
            continue
        if _matches(name, disabled):
            continue
        out.append(merged[name].with_policy(_matches(name, error_plugins)))
    return out
