"""Where the command line finds its home (the database and the key file), and when it makes one.

``ACTIONRUNS_HOME`` when it is set; else ``.actionruns`` in the current folder or the
nearest folder above it; else the one beside the virtualenv this command runs from (the
checkout ``./scripts/serve`` installed). A command never makes a new home silently: it asks
at a terminal, and elsewhere needs ``--init``; without one it says where it looked.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOME_NAME = ".actionruns"
HOME_VARIABLE = "ACTIONRUNS_HOME"


@dataclass(frozen=True)
class HomeSearch:
    found: Path | None
    # Where a home was looked for, in order; the first is where a new one goes.
    looked_in: tuple[Path, ...]
    explicit: bool  # named by ACTIONRUNS_HOME

    @property
    def new_home(self) -> Path:
        return self.looked_in[0]

    def where_it_looked(self) -> str:
        if self.explicit:
            return f"{HOME_VARIABLE} names {self.new_home}, which does not exist"
        here, *others = self.looked_in
        beside_install = [path for path in others if path.parent not in here.parents]
        said = f"looked for {HOME_NAME} in {here.parent} and every folder above it"
        if beside_install:
            said += f", and beside this install ({beside_install[0]})"
        return f"{said}; {HOME_VARIABLE} is not set"


def _install_checkout() -> Path | None:
    """The folder holding the virtualenv this command runs from, if it runs from one."""
    return Path(sys.prefix).resolve().parent if sys.prefix != sys.base_prefix else None


def find_home(env: Mapping[str, str], cwd: Path) -> HomeSearch:
    named = env.get(HOME_VARIABLE, "")
    if named:
        path = Path(named).expanduser().resolve()
        return HomeSearch(path if path.is_dir() else None, (path,), explicit=True)
    cwd = cwd.resolve()
    candidates = [folder / HOME_NAME for folder in (cwd, *cwd.parents)]
    checkout = _install_checkout()
    if checkout is not None and checkout / HOME_NAME not in candidates:
        candidates.append(checkout / HOME_NAME)
    found = next((path for path in candidates if path.is_dir()), None)
    return HomeSearch(found, tuple(candidates), explicit=False)
