# The two commands of the README's Quick start, and `make lock` to refresh the lock files.
.PHONY: demo test screenshots lock

demo:
	bash scripts/setup.sh runtime
	.venv/bin/hailong demo $(ARGS)

# The whole suite on Python 3.11; the kiosk's, the bridge's and the contract's tests also on 3.13
# (Debian 13 on a Raspberry Pi runs 3.13, with the newer PySide6 the lock gives it there).
# Three pytest workers (pytest-xdist), one test file each at a time: much of the suite waits on a
# broker, a browser or a database, so three keep two cores busy (1,889 tests: 12+ min -> 6.5 min).
# Every worker has its own PostgreSQL cluster, brokers and Chromium on free ports.
PYTEST_WORKERS ?= 3
test:
	bash scripts/setup.sh test
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	QT_QPA_PLATFORM=offscreen .venv/bin/pytest -n $(PYTEST_WORKERS) --dist loadfile
	QT_QPA_PLATFORM=offscreen .venv313/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadfile tests/kiosk tests/firmware_bridge tests/hailong/contract

screenshots:
	bash scripts/setup.sh runtime
	QT_QPA_PLATFORM=offscreen .venv/bin/hailong kiosk --screenshots docs/screenshots

# Refresh requirements/*.txt after changing dependencies in pyproject.toml (UPGRADE=1: everything
# to its newest version that fits), then run `make test`. See scripts/lock.sh.
lock:
	bash scripts/lock.sh
