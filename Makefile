# The two commands: `make run` and `make test`. Both install what is missing first
# (scripts/install-deps, Debian packages only), so a fresh Debian 12 machine needs nothing else.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
EDGECACHE_ARGS ?=

.PHONY: run test build release asan unit integration fuzz-build fuzz bench docs format-check clean

run: release
	@echo
	@echo "edgecache is starting on 127.0.0.1:8080 in front of its demo origin (127.0.0.1:8000)."
	@echo "Try:"
	@echo "  curl -si http://127.0.0.1:8080/wiki/Main_Page | head -20     # X-Cache: ... miss"
	@echo "  curl -si http://127.0.0.1:8080/wiki/Main_Page | head -20     # X-Cache: ... hit"
	@echo "  curl -s  http://127.0.0.1:8080/static/images/Main_Page.png -o /dev/null -w '%{http_code} %{size_download}\n'"
	@echo "  curl -s  http://127.0.0.1:9090/metrics | grep edgecache_cache_lookups_total"
	@echo "  curl -s  http://127.0.0.1:9090/healthz"
	@echo "Stop with Ctrl-C (drains in-flight requests)."
	@echo
	./build/release/src/server/edgecache $(EDGECACHE_ARGS)

release:
	scripts/install-deps build
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS) --target edgecache

build: release

asan:
	scripts/install-deps test
	cmake --preset asan >/dev/null
	cmake --build build/asan -j $(JOBS)

unit: asan
	ctest --test-dir build/asan --output-on-failure -j $(JOBS)

integration: asan
	cd tests/integration && EDGECACHE_BIN=$(CURDIR)/build/asan/src/server/edgecache \
	  $(PYTHON) -m pytest -q $(PYTEST_ARGS)

# Unit tests, fuzz corpus replays and the docs check (ctest), then the integration suite.
test: asan
	ctest --test-dir build/asan --output-on-failure -j $(JOBS)
	cd tests/integration && EDGECACHE_BIN=$(CURDIR)/build/asan/src/server/edgecache \
	  $(PYTHON) -m pytest -q

fuzz-build:
	scripts/install-deps test
	cmake --preset fuzz >/dev/null
	cmake --build build/fuzz -j $(JOBS)

# Runs every fuzz target for FUZZ_SECONDS each (default 60).
FUZZ_SECONDS ?= 60
fuzz: fuzz-build
	@for bin in build/fuzz/tests/fuzz/fuzz_*; do \
	  name=$${bin##*/fuzz_}; mkdir -p build/fuzz/corpus/$$name; \
	  echo "== $$name"; \
	  $$bin -max_total_time=$(FUZZ_SECONDS) -dict=tests/fuzz/http.dict \
	    build/fuzz/corpus/$$name tests/fuzz/corpus/$$name || exit 1; \
	done

bench:
	scripts/install-deps bench
	cmake --preset release >/dev/null
	cmake --build build/release -j $(JOBS) --target edgecache
	bench/macro/run $(BENCH_ARGS)

docs:
	cmake --preset dev >/dev/null
	cmake --build build/dev --target gen_docs
	build/dev/tools/gen_docs --out docs/user

format-check:
	clang-format-14 --dry-run --Werror $$(git ls-files 'src/*.h' 'src/*.cc' 'tests/*.cc')

clean:
	rm -rf build
