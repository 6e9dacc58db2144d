# The two commands of the Quick start, and what they stand on.
.PHONY: demo test setup media services bench

setup:
	@scripts/setup.sh

media:
	@scripts/media-deps.sh

demo: setup media
	.venv/bin/rtcc demo

services:
	@scripts/test-services.sh

test: setup media services
	.venv/bin/ruff check --select F,E9 src tests bench
	.venv/bin/python -m pytest

bench: setup
	@for script in bench/*.py; do .venv/bin/python "$$script"; done
