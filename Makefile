# Zhongkong. `make run` and `make test` are all a fresh machine needs (Python 3.11 and make).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
export PORT

.PHONY: run dev test bench catalogue lint lock messages check-deploy clean

$(VENV)/.runtime: requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

.env:
	$(PYTHON) -m apps.core.envfile .env

## run: install, configure, migrate, bootstrap, then web + Celery worker + beat (Ctrl-C stops)
run: $(VENV)/.runtime .env
	mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py bootstrap
	$(PY) manage.py runall --port $(PORT)

## dev: development mode: DEBUG on, Django's autoreloading server, worker, beat and the sandbox
dev: $(VENV)/.runtime .env
	mkdir -p var
	$(PY) manage.py migrate --no-input
	$(PY) manage.py bootstrap
	DEBUG=true $(PY) manage.py runall --port $(PORT) --dev

## test: install and run the whole suite (needs the local PostgreSQL and Redis; .ci/run starts them)
test: $(VENV)/.dev lint
	$(PY) -m pytest $(PYTEST_ARGS)

## bench: the benchmarks under tests/benchmarks (not part of `make test`)
bench: $(VENV)/.dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) -m pytest tests/benchmarks -p no:randomly -s -o addopts="" $(PYTEST_ARGS)

## catalogue: regenerate the console's API catalogue from the official SDKs (PyPI and npm)
catalogue: $(VENV)/.dev .env
	mkdir -p var/sdk
	test -f var/sdk/larksuiteoapi-node-sdk-1.74.0.tgz || npm pack --silent @larksuiteoapi/node-sdk@1.74.0 --pack-destination var/sdk
	test -f var/sdk/ding_talk_wb-1.0.1-py2-none-any.whl || $(PY) -m pip download --quiet --no-deps --only-binary=:all: --python-version 2.7 ding-talk-wb==1.0.1 -d var/sdk
	$(PY) manage.py build_catalogue --lark-node-sdk var/sdk/larksuiteoapi-node-sdk-1.74.0.tgz --dingtalk-top-sdk var/sdk/ding_talk_wb-1.0.1-py2-none-any.whl

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## lock: re-resolve the pinned dependencies of pyproject.toml into the two lock files
lock: $(VENV)/.dev
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --python-version 3.11 -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock

## messages: extract and compile the Chinese translations (needs gettext)
messages: $(VENV)/.dev
	DJANGO_SETTINGS_MODULE=tests.settings $(PY) manage.py makemessages -l zh_Hans --no-location \
	  --ignore '.venv/*' --ignore 'tests/*' --ignore 'var/*'
	msgfmt --check -o apps/core/locale/zh_Hans/LC_MESSAGES/django.mo apps/core/locale/zh_Hans/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) var
