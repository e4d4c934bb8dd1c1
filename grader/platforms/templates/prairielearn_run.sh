#!/usr/bin/env bash
# torchgrader on PrairieLearn: grades /grade/student/*.ipynb into /grade/results/results.json
# ($GRADE_ROOT instead of /grade where it is set).
set -euo pipefail
export GRADE_ROOT="${GRADE_ROOT:-/grade}"
BIN="${GRADER_PYTHON_BIN:-/opt/torchgrader/venv/bin}"
cd /tmp
exec "$BIN/python" -m grader.platforms.prairielearn
