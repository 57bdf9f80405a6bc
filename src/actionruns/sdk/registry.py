"""The catalogue of apps, loaded from the ``actionruns.connectors`` entry point group."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points

import structlog

from actionruns.sdk.app import Action, App

ENTRY_POINT_GROUP = "actionruns.connectors"
# Fixed namespace: app and action ids are stable across installs and restarts.
_ID_NAMESPACE = uuid.UUID("6b0d7f0e-3c1a-4f43-9a57-7d0f5f1a2c11")

log = structlog.get_logger(__name__)


def app_id(app: App) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"app:{app.key}"))


def action_id(app: App, action: Action) -> str:
    return str(uuid.uuid5(_ID_NAMESPACE, f"action:{app.key}.{action.key}"))


class Registry:
    """The apps a process serves, by key, id and action; imported apps come and go while it
    runs (``put``, ``remove``), so readers take what is there at the moment they look."""

    def __init__(self, apps: Iterable[App] = ()) -> None:
        self._apps: dict[str, App] = {}
        self._app_ids: dict[str, App] = {}
        self._actions: dict[str, tuple[App, Action]] = {}
        self._sorted: list[App] | None = None
        self._keys: tuple[str, ...] = ()
        for app in apps:
            self.add(app)

    @classmethod
    def from_entry_points(cls, extra: Iterable[str] = ()) -> Registry:
        """Installed connectors, plus ``extra`` ones named ``module:attribute``.

        ``extra`` (``ACTIONRUNS_CONNECTORS``) lets an integration author serve a connector
        straight from a checkout, without packaging it.
        """
        registry = cls()
        found = [(ep.name, ep) for ep in entry_points(group=ENTRY_POINT_GROUP)]
        found += [(ref, EntryPoint(ref, ref, ENTRY_POINT_GROUP)) for ref in extra]
        for name, entry_point in found:
            try:
                loaded = entry_point.load()
            except Exception:
                log.exception("connector_load_failed", entry_point=name)
                continue
            # An app, or a package's several apps (a list of them).
            found_apps = [loaded] if isinstance(loaded, App) else loaded
            if not isinstance(found_apps, list | tuple) or not all(
                isinstance(item, App) for item in found_apps
            ):
                log.error("connector_not_an_app", entry_point=name)
                continue
            for app in found_apps:
                registry.add(app)
        return registry

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
