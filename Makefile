# hostpool: the two commands a newcomer needs are `make run` and `make test`.
# Everything is built by CMake under build/ (release), build-asan/ and build-fuzz/.

JOBS      ?= $(shell nproc)
BUILD     ?= build
CMAKE_ARGS ?=
FUZZ_SECONDS ?= 60
# New inputs and crashes go here, not into the committed corpus (minimize before committing).
FUZZ_SCRATCH ?= /tmp/hostpool-fuzz

.PHONY: all deps build run test asan fuzz fuzz-build bench format clean install

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The demo pool: it prints every server's URL; Ctrl+C drains and stops it. Only the hostpool
# binary is built, quietly (what the build printed shows only when it fails), so what the
# terminal shows is hostpool's own lines.
run: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target hostpool -- --no-print-directory \
		>$(BUILD)/build.log 2>&1 || { cat $(BUILD)/build.log; exit 1; }
	@$(BUILD)/hostpool run --config examples/hostpool.yaml

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHP_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS)

# The binary, libhostpool (static and shared), its headers and hostpool.pc, the man pages, the
# systemd unit and the bash completion, under PREFIX (staged under DESTDIR when set).
PREFIX ?= /usr/local
install: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_ARGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

# The libFuzzer targets, built with clang (CI builds them so they cannot rot) and run once
# over the committed corpus.
fuzz-build: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_FUZZ=ON -DHP_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	build-fuzz/fuzz/fuzz_connection -runs=0 fuzz/corpus/fuzz_connection
	build-fuzz/fuzz/fuzz_upstream_response -runs=0 fuzz/corpus/fuzz_upstream_response

fuzz: fuzz-build
	@mkdir -p $(FUZZ_SCRATCH)/corpus
	build-fuzz/fuzz/fuzz_connection -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		-rss_limit_mb=2048 -dict=fuzz/fuzz_connection.dict -artifact_prefix=$(FUZZ_SCRATCH)/ \
		$(FUZZ_SCRATCH)/corpus fuzz/corpus/fuzz_connection

bench: build
	@scripts/deps.sh nginx-light haproxy wrk brotli
	bench/run.sh
	bench/proxy.sh
	bench/pool_scale.sh
	bench/admin_api.sh
	bench/switchboard.sh
	bench/websocket.sh
	bench/guards.sh
	bench/compress.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
