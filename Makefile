# MasterPlan — the sysadmin's entry point.
#   make deps    install the Debian packages MasterPlan needs (only those missing)
#   make build   build the masterplan binary (debug)
#   make release build the masterplan binary (release)
#   make test    deps, then the whole test suite against real PostgreSQL, nginx and libraries
#   make run     deps, build, then `masterplan up`: the whole stack on http://127.0.0.1:8080/ until Ctrl-C
#                (options through UP_ARGS, e.g. make run UP_ARGS="--port 9090 --data-dir /srv/masterplan")

SWIFT ?= swift
APT_PACKAGES := libfcgi-dev libpq-dev libjansson-dev postgresql nginx bubblewrap git curl python3 pkg-config python3-pytest python3-pyflakes python3-yaml nodejs golang-go chromium python3-fastapi python3-httpx python3-jwt python3-pip

.PHONY: deps build release test clean

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	echo "deps: installing$$missing"; \
	if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	$$SUDO apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing

build:
	$(SWIFT) build --product masterplan

release:
	$(SWIFT) build -c release --product masterplan

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build

.PHONY: run
UP_ARGS ?=

run: deps
	$(SWIFT) build --product masterplan
	"$$($(SWIFT) build --product masterplan --show-bin-path)/masterplan" up $(UP_ARGS)
