#!/usr/bin/env bash
# Score the engine against the classic predictors (naive, QL, LES, HOL) on both shared logs
# and a few simulated branches; prints the tables and writes the plots.
#
#     benchmarks/evaluate_all.sh [PLOTS_DIR]        (default: build/evaluate)
#
# The bank log is 60k events: the engine's replay of it takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
plots="${1:-build/evaluate}"
data="../shared/data"
exec .venv/bin/python - "$plots" "$data" <<'PY'
import sys

from queue_board.evaluate import run_evaluate

plots, data = sys.argv[1], sys.argv[2]
logs = [f"{data}/sample-branch.jsonl", f"{data}/anonymous-bank-1999-02-01-to-14.jsonl"]
simulated = [("demo", 5, 1), ("busy", 5, 1), ("mmc", 5, 1)]
print(run_evaluate(logs, plots, simulated), end="")
PY
