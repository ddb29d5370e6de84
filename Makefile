# The two commands of the README's Quick start.
.PHONY: demo test lint screenshots

demo:
	bash scripts/setup.sh runtime
	.venv/bin/hailong demo

test:
	bash scripts/setup.sh test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	QT_QPA_PLATFORM=offscreen .venv/bin/pytest

screenshots:
	bash scripts/setup.sh runtime
	QT_QPA_PLATFORM=offscreen .venv/bin/hailong kiosk --screenshots docs/screenshots
