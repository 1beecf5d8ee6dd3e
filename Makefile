# The two commands of CONTRACT.md: `make run` and `make test`.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
MO     := app/translations/vi/LC_MESSAGES/messages.mo

.PHONY: run test lint translations extract-messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

$(MO): app/translations/vi/LC_MESSAGES/messages.po | $(VENV)/.runtime
	$(BIN)/pybabel compile -d app/translations

translations: $(MO)

## Serve the demo on http://127.0.0.1:5000 (SQLite, no Redis, demo accounts).
run: $(VENV)/.runtime translations
	HOTLINE_DEMO=1 $(BIN)/flask --app wsgi init
	HOTLINE_DEMO=1 $(BIN)/flask --app wsgi seed-demo
	@echo "Open http://$${HOST:-127.0.0.1}:$${PORT:-5000} and sign in with one of the accounts above."
	HOTLINE_DEMO=1 $(BIN)/python wsgi.py

lint: $(VENV)/.dev
	$(BIN)/ruff check .

## Everything: lint, the suite on PostgreSQL + Redis, then the suite on SQLite.
test: $(VENV)/.dev translations lint
	scripts/ensure-services.sh
	scripts/ensure-chromium.sh
	$(BIN)/pytest -n auto -p no:cacheprovider
	TEST_DATABASE_URL=sqlite:///ignored.db $(BIN)/pytest -n auto -p no:cacheprovider \
		-m "not postgresql_only and not browser"

## After adding _("…") strings: refresh the catalogue, translate, commit the .po.
extract-messages: $(VENV)/.dev
	$(BIN)/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot app
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations

clean:
	rm -rf $(VENV) instance
