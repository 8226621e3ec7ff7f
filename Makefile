# The README's two commands: `make demo` and `make test`. Both set the machine up first.
.PHONY: demo test setup setup-test lint

demo: setup
	.venv/bin/queue-board demo

test: setup-test lint
	.venv/bin/python -m pytest

setup:
	./scripts/setup.sh

setup-test:
	./scripts/setup.sh --browser

lint:
	.venv/bin/ruff check queue_board simulations tests scripts benchmarks
	.venv/bin/mypy
