#!/usr/bin/env bash
# torchgrader on Gradescope: run once, as root, when Gradescope builds the autograder image.
# It works offline where what it needs is there already: each step skips what is present.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
TORCH="@TORCH@"
TORCH_INDEX="@TORCH_INDEX@"        # empty: PyPI's default (CUDA) build

# the hidden tests and solutions: readable by root only
chmod -R go-rwx "$SOURCE"
chmod 755 "$ROOT"

# bubblewrap, the strongest sandbox, where apt works; without it grading uses the drop backend
if ! command -v bwrap >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && apt-get update -qq >/dev/null 2>&1 &&
     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1; then
    echo "installed bubblewrap"
  else
    echo "bubblewrap not installed (no apt or no network): grading will use the drop sandbox"
  fi
fi

if [ -n "${GRADER_PYTHON_BIN:-}" ] && [ -x "$GRADER_PYTHON_BIN/grader" ]; then
  echo "using the grader in $GRADER_PYTHON_BIN"
  exit 0
fi

PY="${GRADER_SETUP_PYTHON:-$(command -v python3)}"
VENV="$ROOT/venv"
[ -x "$VENV/bin/python" ] || "$PY" -m venv --system-site-packages "$VENV"
V="$VENV/bin/python"
HAVE="$("$V" -c "import torch; print(torch.__version__.split('+')[0])" 2>/dev/null || true)"
if [ "$HAVE" = "$TORCH" ]; then
  echo "torch $TORCH is installed"
else
  "$V" -m pip install --quiet "torch==$TORCH" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
fi
WHEEL="$(ls "$SOURCE"/wheels/torchgrader-*.whl)"
# the wheel alone where its dependencies are present (offline), else with them
"$V" -m pip install --quiet --no-index --no-deps --force-reinstall "$WHEEL"
if ! "$V" -c "import grader.platforms.gradescope, pytest, nbformat, otter" 2>/dev/null; then
  "$V" -m pip install --quiet "$WHEEL"
fi
# the student process runs this Python as uid 65534
chmod -R go+rX "$VENV"
echo "torchgrader installed in $VENV"
