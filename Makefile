# The commands a newcomer and CI need. `make run` serves, `make test` tests; both set up what
# they need on a fresh machine of this kind.

CARGO ?= cargo
FORBIDDEN_IN_DOMAIN := diesel actix-web actix-rt reqwest tokio utoipa jsonwebtoken
FORBIDDEN_IN_PERSISTENCE := actix-web reqwest utoipa integrations api
FORBIDDEN_IN_INTEGRATIONS := diesel actix-web utoipa persistence api

.PHONY: run build test test-sqlite tools forms-preview lint fmt clippy check-layers generate openapi release bench clean-test-dbs

## Build and serve on 127.0.0.1:8080 with SQLite under ./data (migrations and the first admin
## are set up automatically; a generated admin password is printed once).
run:
	$(CARGO) run --release -p api --bin motcua -- serve

build:
	$(CARGO) build --workspace --all-targets

## The whole suite on SQLite and PostgreSQL (the server on 127.0.0.1:5432 when it answers,
## otherwise a throwaway cluster), with a Garage S3 server for the object-store tests.
test: tools
	./scripts/with-pg.sh ./scripts/with-garage.sh $(CARGO) test --workspace

## The suite on SQLite only (no PostgreSQL needed).
test-sqlite: tools
	TEST_PG_URL= $(CARGO) test --workspace

## Tools the tests call: pdftotext/pdftoppm (poppler-utils) read the generated PDFs back.
tools:
	@./scripts/ensure-tools.sh

## Render every form and the register of the forms test to PNG under target/forms (look at them).
forms-preview: tools
	rm -rf target/forms && mkdir -p target/forms
	MOTCUA_FORMS_OUT=$(CURDIR)/target/forms TEST_PG_URL= $(CARGO) test -p api --test http forms::
	cd target/forms && for f in *.pdf; do pdftoppm -r 60 -png "$$f" "$${f%.pdf}"; done && ls -1 target/forms 2>/dev/null || ls -1

fmt:
	$(CARGO) fmt --all

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## Fails when a crate gains a dependency that breaks the layering of docs/ARCHITECTURE.md, when
## application code (api/src/app) uses actix-web, utoipa or validator, or when a module imports
## a route module (scripts/check-imports.sh).
check-layers:
	@./scripts/check-imports.sh
	@for c in $(FORBIDDEN_IN_DOMAIN); do \
	  if $(CARGO) tree -p domain -e normal -i $$c >/dev/null 2>&1; then echo "domain must not depend on $$c"; exit 1; fi; done
	@for c in $(FORBIDDEN_IN_PERSISTENCE); do \
	  if $(CARGO) tree -p persistence -e normal -i $$c >/dev/null 2>&1; then echo "persistence must not depend on $$c"; exit 1; fi; done
	@for c in $(FORBIDDEN_IN_INTEGRATIONS); do \
	  if $(CARGO) tree -p integrations -e normal -i $$c >/dev/null 2>&1; then echo "integrations must not depend on $$c"; exit 1; fi; done
	@echo "layers ok"

## Rewrites openapi.yaml and docs/ERRORS.md from the code.
generate:
	UPDATE_GENERATED=1 TEST_PG_URL= $(CARGO) test -p api --test http docs::

openapi: generate

## Formatting, clippy, layering and the OpenAPI lint (installs @redocly/cli locally with npm).
lint: check-layers
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@test -x node_modules/.bin/redocly || npm install --no-save --no-audit --no-fund @redocly/cli@2 >/dev/null
	node_modules/.bin/redocly lint --config redocly.yaml openapi.yaml

release:
	$(CARGO) build --release -p api --bin motcua

## Benchmarks (release build): due-date throughput in domain, catalogue search latency over
## HTTP with 10,000 procedures on SQLite and PostgreSQL. Figures, not pass/fail.
bench:
	./scripts/ensure-tools.sh bench
	$(CARGO) bench -p domain --bench due
	./scripts/with-pg.sh $(CARGO) bench -p api --bench catalog
	./scripts/with-pg.sh $(CARGO) bench -p api --bench cases

## Drops test databases left behind by interrupted runs on the local PostgreSQL.
clean-test-dbs:
	psql postgres://postgres@127.0.0.1:5432/postgres -tAc "SELECT datname FROM pg_database WHERE datname LIKE 't\_%' OR datname LIKE 'motcua\_tpl\_%'" \
	  | while read -r db; do [ -n "$$db" ] && psql postgres://postgres@127.0.0.1:5432/postgres -c "DROP DATABASE \"$$db\" WITH (FORCE)"; done; true
