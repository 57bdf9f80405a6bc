"""``actionruns serve --reload-connectors``: a connector being written is served again each
time its file changes, without a restart, as zapier-platform's and Activepieces' dev loops
do. A change that does not load (a syntax error, an exception) is reported and the previous
version stays served; what 'connectors check' would say of the new one is said at once.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import watchfiles

from actionruns.sdk.lint import lint_app
from actionruns.sdk.registry import Registry, reference_file


def watched_files(registry: Registry) -> dict[Path, list[str]]:
    """The source file of each connector named by reference (file or module), and the
    references it serves."""
    files: dict[Path, list[str]] = {}
    for ref in registry.local_references:
        path = reference_file(ref) or _module_file(ref.partition(":")[0])
        if path is not None:
            files.setdefault(path, []).append(ref)
    return files


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).resolve() if spec is not None and spec.origin else None


def reload_reference(registry: Registry, ref: str) -> str:
    """Serve ``ref`` anew; what happened, in one line for the terminal."""
    path = reference_file(ref)
    name = path.name if path is not None else ref
    try:
        app = registry.reload(ref)
    except Exception as exc:
        return f"{name}: {type(exc).__name__}: {exc}; still serving the previous version"
    said = f"reloaded {app.key} from {name}: {len(app.actions)} actions"
    problems = lint_app(app)
    if problems:
        said += f"; check finds {len(problems)} problems, first: {problems[0]}"
    return said


async def watch_connectors(registry: Registry, say: Callable[[str], None]) -> None:
    """Reload each connector whose file changes, until cancelled."""
    files = watched_files(registry)
    if not files:
        say("--reload-connectors: no connector named by file or module to watch")
        return
    say("watching " + ", ".join(str(path) for path in files) + " for changes")
    folders = {path.parent for path in files}
    async for changes in watchfiles.awatch(*folders):
        changed = {Path(path) for _, path in changes}  # absolute, as the folders are
        for path in changed & set(files):
            for ref in files[path]:
                say(reload_reference(registry, ref))
