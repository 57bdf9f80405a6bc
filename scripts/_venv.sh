# Sourced by the other scripts: make .venv with Python 3.11+ and install the project into it,
# saying what it does (a first install takes a minute or so).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "actionruns needs Python 3.11 or newer (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "== making a virtualenv in .venv ($("$PYTHON" --version 2>&1))"
  "$PYTHON" -m venv .venv
fi
install_project() {
  # $1: the extras to install, e.g. "[test]". Skipped when pyproject.toml has not changed
  # since the same extras were installed (the code itself is installed editable).
  local extras="$1" stamp=".venv/.installed$1" want log started=$SECONDS
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "== actionruns$extras is installed in .venv (pyproject.toml unchanged)"
    return
  fi
  echo "== installing actionruns$extras and its dependencies into .venv"
  log=$(mktemp)
  # pip's own lines, one per package, so a long first install is seen to progress.
  if ! .venv/bin/python -m pip install --disable-pip-version-check --progress-bar off \
    -e ".$extras" 2>&1 | tee "$log" \
    | { grep --line-buffered -E '^(Collecting|Installing collected packages)' || true; } \
    | sed -u -e 's/^Collecting \([^ ]*\).*/   \1/' -e 's/^Installing collected packages: .*/   installing…/'
  then
    echo "the install failed; pip said:" >&2
    cat "$log" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "$want" >"$stamp"
  echo "== installed in $((SECONDS - started)) s"
}
