"""The catalogue of apps, loaded from the ``actionruns.connectors`` entry point group."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

import structlog

from actionruns.sdk.app import Action, App
from actionruns.sdk.drivers import DriverMissing

ENTRY_POINT_GROUP = "actionruns.connectors"
# Fixed namespace: app and action ids are stable across installs and restarts.
_ID_NAMESPACE = uuid.UUID("6b0d7f0e-3c1a-4f43-9a57-7d0f5f1a2c11")

log = structlog.get_logger(__name__)


def app_id(app: App) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"app:{app.key}"))


def action_id(app: App, action: Action) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"action:{app.key}.{action.key}"))


@dataclass(frozen=True)
class Unavailable:
    """A connector that is installed or named but could not be loaded, and why."""

    name: str  # the entry point's name (the app key), or the reference as given
    reason: str


def reference_file(ref: str) -> Path | None:
    """The file a reference names (``path/to/app.py[:attribute]``), if it names one."""
    target = ref.partition(":")[0]
    return Path(target).resolve() if target.endswith(".py") else None


def load_reference(ref: str, *, reload: bool = False) -> object:
    """What ``ref`` names: ``module:attribute``, ``module`` (its ``app``), or a file
    ``path/to/module.py[:attribute]``. Modules are found from the current folder too, so a
    connector being written in a checkout loads without any PYTHONPATH. ``reload`` reads
    the module's file again."""
    target, _, attribute = ref.partition(":")
    path = reference_file(ref)
    module = _module_from_file(path, reload) if path else _module(target, reload)
    if not hasattr(module, attribute or "app"):
        raise AttributeError(f"{module.__name__} has no attribute {attribute or 'app'!r}")
    return getattr(module, attribute or "app")


def _module(name: str, reload: bool) -> ModuleType:
    here = str(Path.cwd())
    if here not in sys.path:
        sys.path.append(here)  # after installed packages: a local file never shadows them
    module = importlib.import_module(name)
    return importlib.reload(module) if reload else module


def _module_from_file(path: Path, reload: bool) -> ModuleType:
    name = f"actionruns_connector_{path.stem}"
    if not reload and name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # the app's module is looked up by name (its fixtures)
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


class Registry:
    """The apps a process serves, by key, id and action; imported apps come and go while it
    runs (``put``, ``remove``), so readers take what is there at the moment they look."""

    def __init__(self, apps: Iterable[App] = ()) -> None:
        self._apps: dict[str, App] = {}
        self._app_ids: dict[str, App] = {}
        self._actions: dict[str, tuple[App, Action]] = {}
        self._sorted: list[App] | None = None
        self._keys: tuple[str, ...] = ()
        self.unavailable: dict[str, Unavailable] = {}
        # Connectors named by reference (``from_entry_points``' extra), loaded or not, and
        # the app each loaded: they can be reloaded.
        self.local_references: tuple[str, ...] = ()
        self.references: dict[str, str] = {}
        for app in apps:
            self.add(app)

    @classmethod
    def from_entry_points(cls, extra: Iterable[str] = ()) -> Registry:
        """Installed connectors, plus ``extra`` ones named as ``load_reference`` reads them.

        ``extra`` (``ACTIONRUNS_CONNECTORS``) lets an integration author serve a connector
        straight from a checkout, without packaging it. A connector that cannot be loaded
        (its driver is not installed, it has an error) is listed in ``unavailable``.
        """
        registry = cls()
        extra = registry.local_references = tuple(dict.fromkeys(extra))
        found: list[tuple[str, Callable[[], object]]] = [
            (ep.name, ep.load) for ep in entry_points(group=ENTRY_POINT_GROUP)
        ]
        found += [(ref, functools.partial(load_reference, ref)) for ref in extra]
        for name, load in found:
            apps = registry._load(name, load)
            if len(apps) == 1 and name in extra:
                registry.references[name] = apps[0].key
        return registry

    def _load(self, name: str, load: Callable[[], object]) -> list[App]:
        """The apps an entry point or reference gives (an app, or a package's list of them),
        added; what fails is listed in ``unavailable`` with why."""
        try:
            loaded = load()
        except DriverMissing as exc:
            self.unavailable[name] = Unavailable(name, str(exc))
            return []
        except Exception as exc:
            log.exception("connector_load_failed", entry_point=name)
            self.unavailable[name] = Unavailable(name, f"it failed to load: {_failure(exc)}")
            return []
        apps = [loaded] if isinstance(loaded, App) else loaded
        if not isinstance(apps, list | tuple) or not all(isinstance(app, App) for app in apps):
            log.error("connector_not_an_app", entry_point=name)
            self.unavailable[name] = Unavailable(name, "it is not an actionruns.sdk.App")
            return []
        added = []
        for app in apps:
            try:
                self.add(app)
            except ValueError as exc:
                self.unavailable[name] = Unavailable(name, str(exc))
                continue
            added.append(app)
        return added

    def reload(self, ref: str) -> App:
        """Load ``ref`` again and serve the new definition in place of the one it gave before
        (a connector being written); a failure raises and leaves the old one served."""
        loaded = load_reference(ref, reload=True)
        if not isinstance(loaded, App):
            raise TypeError(f"{ref} is not an actionruns.sdk.App")
        previous = self.references.get(ref)
        if loaded.key != previous and loaded.key in self._apps:
            raise ValueError(f"two connectors declare the app key {loaded.key!r}")
        if previous is not None:
            self.remove(previous)
        self.put(loaded)
        self.references[ref] = loaded.key
        self.unavailable.pop(ref, None)
        return loaded

    def add(self, app: App) -> None:
        if app.key in self._apps:
            raise ValueError(f"two connectors declare the app key {app.key!r}")
        self.put(app)

    def put(self, app: App) -> None:
        """Add ``app``, or replace the app of the same key (an imported app upgraded)."""
        self.remove(app.key)
        self._apps[app.key] = app
        self._app_ids[app_id(app)] = app
        for action in app.actions:
            pair = (app, action)
            self._actions[action_id(app, action)] = pair
            self._actions[f"{app.key}.{action.key}"] = pair
        self._changed()

    def remove(self, key: str) -> App | None:
        app = self._apps.pop(key, None)
        if app is None:
            return None
        self._app_ids.pop(app_id(app), None)
        for action in app.actions:
            self._actions.pop(action_id(app, action), None)
            self._actions.pop(f"{app.key}.{action.key}", None)
        self._changed()
        return app

    def _changed(self) -> None:
        self._sorted = None
        self._keys = tuple(self._apps)

    def __iter__(self) -> Iterator[App]:
        if self._sorted is None:
            self._sorted = sorted(self._apps.values(), key=lambda app: app.title.lower())
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._apps)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every app key, as of now."""
        return self._keys

    def app(self, ref: str) -> App | None:
        """An app by its key (slug) or its id."""
        return self._apps.get(ref) or self._app_ids.get(ref)

    def action(self, ref: str) -> tuple[App, Action] | None:
        """An action by its id or its stable ``app_key.action_key`` form."""
        return self._actions.get(ref)


def _failure(exc: BaseException) -> str:
    """The error and where it happened: the last line of its traceback that is not Python's
    own import machinery (a SyntaxError names its line itself)."""
    said = f"{type(exc).__name__}: {exc}"
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if not frame.filename.startswith("<frozen") and frame.filename != __file__
    ]
    if isinstance(exc, SyntaxError) or not frames:
        return said
    return f"{said} ({Path(frames[-1].filename).name}, line {frames[-1].lineno})"
