# TokenSim: building, testing and running. `make help` lists the targets.
#
# Every target installs what it needs and is missing (Debian packages with apt-get, tools with
# `cargo install` into a cache folder), so a fresh Debian machine needs only a Rust toolchain
# and make. Nothing relies on what was installed by hand.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := help

# Build outputs live outside the clone, so a fresh clone rebuilds only the workspace crates.
CACHE_DIR ?= $(HOME)/.cache/tokensim
export CARGO_TARGET_DIR ?= $(CACHE_DIR)/target
# Tools installed with `cargo install --root` land here and are found before any other copy.
TOOLS_DIR ?= $(CACHE_DIR)/tools
export PATH := $(TOOLS_DIR)/bin:$(PATH)

# Debian packages the build needs. A feature that needs more appends them here, one `+=` line.
DEBIAN_PACKAGES := build-essential pkg-config ca-certificates
# test-keychain: a session bus (dbus-run-session), a Secret Service (gnome-keyring), secret-tool.
DEBIAN_PACKAGES += dbus gnome-keyring libsecret-tools
# zbarimg: the QR benchmark (`make bench`) runs it beside our decoder on the same frames.
DEBIAN_PACKAGES += zbar-tools
# test-k8s: a Python virtual environment for the offline schema check of deploy/k8s.
DEBIAN_PACKAGES += python3 python3-venv
# cmake: the QR decoder's first stage, zxing-cpp, is C++ built by its crate's build script (g++ is in build-essential).
DEBIAN_PACKAGES += cmake
# test-console: headless Chromium driven from Node (playwright-core, installed with npm ci;
# Debian's npm only when no npm came with nodejs, as NodeSource's does).
DEBIAN_PACKAGES += chromium nodejs
# test-postgres: a throwaway PostgreSQL cluster for the sandbox's suite.
DEBIAN_PACKAGES += postgresql
# The desktop app (Tauri 2): WebKitGTK, tray (appindicator, rsvg), xdo; the screen source (xcap) needs
# pipewire and libclang (bindgen); test-app: Xvfb, WebKitWebDriver, ImageMagick screenshots.
DEBIAN_PACKAGES += file libwebkit2gtk-4.1-dev libsoup-3.0-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev libssl-dev
DEBIAN_PACKAGES += libclang-dev clang libpipewire-0.3-dev libxcb1-dev libxrandr-dev libgbm-dev
DEBIAN_PACKAGES += webkit2gtk-driver xvfb xauth dbus-x11 imagemagick
# test-app: qrencode draws the offline QR, xclip fills the clipboard for a paste.
DEBIAN_PACKAGES += qrencode xclip
# "Open in the browser" (the console, a merchant's page) goes through xdg-open.
DEBIAN_PACKAGES += xdg-utils
# `make deps APT_GET='echo apt-get'` shows what would be installed without installing it.
APT_GET ?= apt-get
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The suites `make test` runs after the lints, each counted. A new suite is one `+=` line
# naming its target (test-ui, test-e2e, test-keychain).
TEST_SUITES := test-rust
TEST_SUITES += test-keychain
TEST_SUITES += test-console test-postgres
TEST_SUITES += test-ui
TEST_SUITES += test-app
TEST_SUITES += deny
TEST_SUITES += test-k8s
export TEST_RESULTS ?= $(CURDIR)/target/test-results
REPORT := scripts/test-report

# Packages with benchmarks (criterion) that `make bench` runs.
BENCH_PACKAGES := powerauth sandbox tokensim-qr
# The fleet benchmark: 1,000 devices activate and approve a payment on the embedded sandbox.
BENCH_PACKAGES += tokensim-fleet

# The fuzz targets live in crates/fuzz (one function each, replayed with short mutation runs in
# `make test`); crates/fuzz/fuzz is the cargo-fuzz crate that runs them under libFuzzer.
FUZZ_DIR := crates/fuzz/fuzz
# `make fuzz`: executions per target (the issue's bar is 10 M each), and an optional time cap
# per target in seconds (0: none). `make fuzz FUZZ_RUNS=100000 FUZZ_SECONDS=60` is a quick look.
FUZZ_RUNS ?= 10000000
FUZZ_SECONDS ?= 0
# Empty: every target `cargo fuzz list` prints. Or name some: `make fuzz FUZZ_TARGETS=public_key`.
FUZZ_TARGETS ?=
# Our crates forbid unsafe code, so AddressSanitizer mostly watches C (SQLite, zxing-cpp) and
# costs 2-3x the executions; `make fuzz FUZZ_SANITIZER=address` turns it on.
FUZZ_SANITIZER ?= none
# The temporary folder of the fuzz runs: `store_files` writes its files there on every input,
# which on a disk file system is mostly the kernel's writeback (about 560 executions/s against
# about 9,200 on tmpfs, same machine). Memory-backed /dev/shm when the machine has one.
FUZZ_TMPDIR ?= $(shell [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "$${TMPDIR:-/tmp}")

.PHONY: help deps tools build lint fmt test test-rust run bench bench-fleet bench-scale bench-profiles fuzz clean probe

help: ## List the targets
	@echo "TokenSim make targets:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z-]+:.*## / { printf "  %-10s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)

deps: ## Install the missing Debian packages (apt-get only when one is missing)
	@missing=""; \
	for package in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$package"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) $(APT_GET) update; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends $$missing; \
	fi

tools: ## Check the Rust tools (cargo, rustfmt, clippy; cargo-nextest is optional)
	@command -v cargo >/dev/null || { echo "cargo is missing: install a stable Rust toolchain (rustup)" >&2; exit 1; }
	@cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@cargo clippy --version >/dev/null 2>&1 || rustup component add clippy

build: deps tools ## Build every crate and target (debug)
	cargo build --workspace --all-targets

fmt: tools ## Format the code
	cargo fmt --all
	cargo fmt --manifest-path $(FUZZ_DIR)/Cargo.toml

# The fuzz targets are a workspace member (crates/fuzz), linted with the rest. The cargo-fuzz
# crate around them (one line per target, checked by crates/fuzz/tests/corpus.rs) is outside the
# workspace: it is formatted here, and linted by `make fuzz`, because a clippy run of it checks the
# sandbox's whole tree a second time (minutes of a cold CI run) for code that is one macro call.
lint: deps tools ## rustfmt --check and clippy -D warnings, fuzz targets included
	cargo fmt --all --check
	cargo fmt --manifest-path $(FUZZ_DIR)/Cargo.toml --check
	cargo clippy --workspace --all-targets -- -D warnings

test: deps tools ## Lints, then every test suite; closes on "N passed, N failed"
	@rm -rf "$(TEST_RESULTS)"
	@$(MAKE) lint
	@status=0; $(MAKE) -k $(TEST_SUITES) || status=$$?; $(REPORT) total; exit $$status

# Every suite runs from the one workspace test build. A `-p PACKAGE` build resolves a different
# feature set, so it would compile much of the dependency tree (Tauri's included) a second time:
# the keychain suite alone spent minutes of a cold CI run recompiling. WORKSPACE_TESTS takes a nextest filter
# expression and the cargo test equivalent (its target and test-name arguments).
HAVE_NEXTEST := $(shell cargo nextest --version >/dev/null 2>&1 && echo yes)
# $(call WORKSPACE_TESTS,nextest arguments,cargo test arguments)
WORKSPACE_TESTS = $(if $(HAVE_NEXTEST),cargo nextest run --workspace --no-fail-fast $(1),cargo test --workspace --no-fail-fast $(2))

# nextest does not run doc tests, hence the second run.
test-rust: deps tools ## Rust unit, integration and doc tests
	@status=0; \
	if [ -n "$(HAVE_NEXTEST)" ]; then \
	  $(REPORT) run rust -- cargo nextest run --workspace --no-fail-fast || status=1; \
	  $(REPORT) run rust-doc -- cargo test --workspace --doc --no-fail-fast || status=1; \
	else \
	  echo "cargo-nextest not found: running the tests with cargo test"; \
	  $(REPORT) run rust -- cargo test --workspace --no-fail-fast || status=1; \
	fi; \
	exit $$status

# cargo-deny, from the tools folder (installed once, skipped when present). `deny` checks every
# dependency's licence, source and duplicate versions offline; `audit` checks RustSec's
# advisories, which needs the advisory database from the network.
CARGO_DENY := $(TOOLS_DIR)/bin/cargo-deny
$(CARGO_DENY):
	cargo install cargo-deny --locked --root "$(TOOLS_DIR)"

.PHONY: deny audit
deny: tools $(CARGO_DENY) ## Dependencies: licences, sources, duplicate versions (cargo-deny)
	@$(REPORT) run deny -- cargo deny check licenses bans sources

audit: tools $(CARGO_DENY) ## Dependencies: RustSec advisories (cargo-deny; fetches the advisory database)
	cargo deny check advisories

# The store's and the CLI's keychain tests (ignored in a plain `cargo test`) against a real gnome-keyring,
# unlocked in a private D-Bus session with throwaway runtime and data folders. They fail,
# never skip, when the keychain cannot be reached (TOKENSIM_KEYCHAIN_TESTS=1 tells them so).
.PHONY: test-keychain
test-keychain: deps tools ## OS keychain tests against a real gnome-keyring (private D-Bus session)
	@scratch=$$(mktemp -d); trap 'rm -rf "$$scratch"' EXIT; \
	mkdir -m 700 "$$scratch/runtime" "$$scratch/data"; \
	XDG_RUNTIME_DIR="$$scratch/runtime" XDG_DATA_HOME="$$scratch/data" TOKENSIM_KEYCHAIN_TESTS=1 \
	  $(REPORT) run keychain -- dbus-run-session -- bash -c \
	  'echo -n tokensim-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null \
	   && $(call WORKSPACE_TESTS,--run-ignored only -E "test(/^keychain::/) & (binary_id(tokensim-store::store) | binary_id(tokensim-cli::e2e))",--test store --test e2e -- --ignored keychain::)'

# The sandbox's web console in headless Chromium: tests/console/console.mjs clicks through it,
# crates/sandbox/tests/console.rs reads the QR code it shows and activates a device with it.
.PHONY: test-console
test-console: deps tools ## Web console in headless Chromium (registration, QR code, activation)
	@command -v npm >/dev/null \
	  || $(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y --no-install-recommends npm
	@[ -d tests/console/node_modules/playwright-core ] \
	  || npm ci --prefix tests/console --no-audit --no-fund --loglevel=error
	@$(REPORT) run console -- $(call WORKSPACE_TESTS,--run-ignored only -E 'binary_id(sandbox::console)',--test console -- --ignored)

# The security and reliability probe (crates/sandbox/tests/sandbox/probe.rs, and the CLI's rows in
# tests/cli/probe.rs) at full size: 100 kill -9 cycles of the sandbox and of the CLI, 50 MB bodies
# on every endpoint, longer load. Its short form runs in every `make test` (test-rust, and
# test-postgres on PostgreSQL). The tables go to target/probe.md; docs/reliability.md keeps the last.
probe: deps tools ## Security and reliability probe, full size (table in target/probe.md)
	@mkdir -p target
	TOKENSIM_PROBE=full TOKENSIM_PROBE_OUT=$(CURDIR)/target/probe-sandbox.md TOKENSIM_PROBE_CLI_OUT=$(CURDIR)/target/probe-cli.md \
	  $(call WORKSPACE_TESTS,--profile probe --no-capture -E '(binary_id(sandbox::sandbox) | binary_id(tokensim-cli::e2e)) & test(/^probe::/)',--test sandbox --test e2e probe:: -- --nocapture)
	@{ cat target/probe-sandbox.md; echo; cat target/probe-cli.md; } > target/probe.md
	@cat target/probe.md

# The sandbox's suite and the Cloud API conformance suite on PostgreSQL: a throwaway cluster
# in a temp folder, reached through a Unix socket in that folder (no TCP port to collide
# with), one schema per test, removed after.
# As root, the cluster runs as the `postgres` user (initdb refuses root).
.PHONY: test-postgres
test-postgres: deps tools ## The sandbox's test suite, and two instances under a sharded fleet, on a throwaway PostgreSQL cluster
	@bin=$$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); \
	scratch=$$(mktemp -d); as=(); \
	if [ "$$(id -u)" = 0 ]; then chown postgres "$$scratch"; as=(runuser -u postgres --); fi; \
	trap '"$${as[@]}" "$$bin/pg_ctl" -D "$$scratch/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$$scratch"' EXIT; \
	"$${as[@]}" "$$bin/initdb" -D "$$scratch/data" -U postgres --auth=trust -E UTF8 >/dev/null; \
	"$${as[@]}" "$$bin/pg_ctl" -D "$$scratch/data" -l "$$scratch/server.log" -w \
	  -o "-c listen_addresses= -k $$scratch -c fsync=off -c max_connections=300" start >/dev/null; \
	TOKENSIM_TEST_POSTGRES_URL="postgres://postgres@localhost/postgres?host=$$scratch" \
	  $(REPORT) run postgres -- $(call WORKSPACE_TESTS,-E 'binary_id(sandbox::sandbox) | binary_id(sandbox::conformance) | (binary_id(tokensim-fleet::shards) & test(postgres))',--test sandbox --test conformance --test shards)

# deploy/k8s checked offline against the Kubernetes API schemas that kubernetes-validate
# (PyPI) ships: every manifest, strict (an unknown field fails), no cluster needed.
K8S_VENV := $(CACHE_DIR)/venv-k8s
K8S_VERSION := 1.31.0
K8S_MANIFESTS := $(filter-out deploy/k8s/kustomization.yaml,$(wildcard deploy/k8s/*.yaml))
.PHONY: test-k8s
test-k8s: deps ## The Kubernetes manifests (deploy/k8s) against the API schemas, offline
	@[ -x "$(K8S_VENV)/bin/kubernetes-validate" ] || { python3 -m venv "$(K8S_VENV)" \
	  && "$(K8S_VENV)/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate==1.37.0; }
	@$(REPORT) run k8s -- bash -c 'passed=0; failed=0; \
	  for f in $(K8S_MANIFESTS); do \
	    if "$(K8S_VENV)/bin/kubernetes-validate" --strict --kubernetes-version $(K8S_VERSION) "$$f"; \
	    then passed=$$((passed + 1)); else failed=$$((failed + 1)); fi; \
	  done; echo "test result: k8s. $$passed passed; $$failed failed"; [ $$failed -eq 0 ]'

# The desktop app (src-tauri, UI in ui/). npm keeps its download cache beside the cargo
# cache, and `npm ci` runs only when a lock file is newer than the installed tree.
NPM_CI := npm ci --no-audit --no-fund --prefer-offline --cache $(CACHE_DIR)/npm
APP_BIN = $(CARGO_TARGET_DIR)/debug/tokensim-app

.PHONY: node ui test-ui test-app tauri-driver
node:
	@command -v node >/dev/null || { echo "Node.js 20 or newer is needed for the desktop app's UI" >&2; exit 1; }
	@node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
	  || { echo "Node.js $$(node --version) is too old: the UI and its WebDriver test need 20 or newer" >&2; exit 1; }

ui/node_modules/.package-lock.json: ui/package-lock.json | node
	cd ui && $(NPM_CI)

tests/app/node_modules/.package-lock.json: tests/app/package-lock.json | node
	cd tests/app && $(NPM_CI)

ui: ui/node_modules/.package-lock.json ## Build the desktop app's UI into ui/dist (Tauri embeds it)
	cd ui && npm run build

# WebDriver for the Tauri window; WebKitWebDriver itself is Debian's webkit2gtk-driver.
tauri-driver: tools
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --root "$(TOOLS_DIR)"

run: deps tools ui ## Start the desktop app with its embedded sandbox (no display: the same flow in the terminal)
	cargo run -p tokensim-app

# Type-checks the Svelte/TypeScript sources, then the Vitest unit tests (every operation
# attribute type, errors). The TypeScript bindings' freshness is a Rust test (bindings_are_fresh).
test-ui: ui/node_modules/.package-lock.json ## UI type check and unit tests (Vitest)
	@$(REPORT) run ui -- bash -c 'cd ui && npm run --silent check && npx vitest run'

# The app under Xvfb in a private D-Bus session, driven through tauri-driver and WebKitWebDriver.
test-app: deps tools ui tauri-driver tests/app/node_modules/.package-lock.json ## End-to-end test of the desktop app through WebDriver (Xvfb)
	cargo build --workspace --bins --tests
	@# A private copy: another worktree building into the shared target dir replaces the binary.
	@mkdir -p "$(TEST_RESULTS)" && cp "$(APP_BIN)" "$(TEST_RESULTS)/tokensim-app"
	@$(REPORT) run app -- xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" \
	  dbus-run-session -- env APP="$(TEST_RESULTS)/tokensim-app" SHOTS="$(TEST_RESULTS)/app-screenshots" node tests/app/e2e.mjs

# The desktop app's cold start and idle memory (docs/benchmarks.md); the gzipped bundle size.
# It measures the build users run: the `app` profile (release, fat LTO, one codegen unit),
# RUNS cold starts (median and range) and the idle memory of each.
RUNS ?= 5
IDLE_SECONDS ?= 10
BENCH_APP_BIN = $(CARGO_TARGET_DIR)/app/tokensim-app
.PHONY: bench-app bench-facemap
bench-app: deps tools ui tauri-driver tests/app/node_modules/.package-lock.json ## Desktop app start-up, idle memory (release build, RUNS=5 cold starts) and UI bundle figures
	cargo build --profile app -p tokensim-app
	@echo "tree $$(git rev-parse --short HEAD)$$(git diff --quiet HEAD || echo ' (with local changes)'); $$(uptime)"
	xvfb-run -a -s "-screen 0 1920x1080x24 -nolisten tcp" dbus-run-session -- env APP="$(BENCH_APP_BIN)" RUNS=$(RUNS) IDLE_SECONDS=$(IDLE_SECONDS) node tests/app/measure.mjs
	@for f in ui/dist/index.html ui/dist/assets/*; do printf '%8d bytes gzipped  %s\n' "$$(gzip -9c "$$f" | wc -c)" "$$f"; done

bench: deps tools ## Run the benchmarks (protocol, sandbox, QR, fleet; release builds)
	cargo build --release -p tokensim-cli --bin tokensim
	TOKENSIM_BIN="$(CARGO_TARGET_DIR)/release/tokensim" cargo bench $(addprefix -p ,$(BENCH_PACKAGES))

bench-fleet: deps tools ## Only the fleet benchmark (TOKENSIM_FLEET_DEVICES, TOKENSIM_FLEET_CONCURRENCY)
	cargo build --release -p tokensim-cli --bin tokensim
	TOKENSIM_BIN="$(CARGO_TARGET_DIR)/release/tokensim" cargo bench -p tokensim-fleet --bench fleet

# The scale model (docs/scale.md): D devices as 1, 2 and 4 release fleet shards at once against
# a release sandbox on a throwaway PostgreSQL; CPU per device of each part, statements per
# device, and the model's prediction against the measured wall times.
SCALE_DEVICES ?= 1000
SCALE_SHARDS ?= 1,2,4
bench-scale: deps tools ## The scale model's inputs and its check at 1, 2 and 4 shards (PostgreSQL; release builds)
	cargo build --release -p tokensim-cli -p sandbox --bin tokensim --bin tokensim-sandbox
	scripts/measure-scale "$(CARGO_TARGET_DIR)/release" --devices $(SCALE_DEVICES) --shards $(SCALE_SHARDS)

bench-facemap: deps tools ## The facemap profile with 1,000 simulated devices (TOKENSIM_FACEMAP_DEVICES); figures in docs/benchmarks.md
	$(call WORKSPACE_TESTS,--run-ignored only --no-capture -E 'binary_id(tokensim-device::device) & test(facemap_fleet)',--test device facemap_fleet -- --ignored --nocapture)

bench-profiles: deps tools ## 1,000 devices per device profile (jwt, api-key, signed-token, facemap, oauth-cc, oauth-device; TOKENSIM_BENCH_PROFILES picks) and, as the peer, PowerAuth, each against a fresh embedded sandbox
	cargo build --workspace --bins
	@for profile in $${TOKENSIM_BENCH_PROFILES:-powerauth jwt api-key signed-token facemap oauth-cc oauth-device}; do \
	  echo "== --profile $$profile"; \
	  "$(CARGO_TARGET_DIR)/debug/tokensim" fleet --profile $$profile --devices $${TOKENSIM_FLEET_DEVICES:-1000} --concurrency 64 --profile-calls 3 --no-verify || exit 1; \
	done

# cargo-fuzz passes -Z flags (sanitizers) that need a nightly compiler; RUSTC_BOOTSTRAP=1 lets
# the stable one accept them, as only the stable toolchain is installed. Each target starts from
# its committed seeds (crates/fuzz/corpus/<target>, read only) and keeps what it finds in the
# build folder; crashes land in target/fuzz-artifacts. The figures (executions, seconds,
# crashes per target) go to target/fuzz.md; docs/reliability.md keeps the last full run.
fuzz: deps tools ## Fuzz every target for FUZZ_RUNS (10 M) executions each (libFuzzer); table in target/fuzz.md
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --root "$(TOOLS_DIR)"
	@mkdir -p target/fuzz-artifacts
	cargo clippy --manifest-path $(FUZZ_DIR)/Cargo.toml --all-targets -- -D warnings
	@cd $(FUZZ_DIR)/..; \
	targets="$(FUZZ_TARGETS)"; [ -n "$$targets" ] || targets=$$(cargo fuzz list); \
	RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer $(FUZZ_SANITIZER); \
	table="$(CURDIR)/target/fuzz.md"; \
	printf '| target | executions | seconds | executions/s | crashes |\n|---|---:|---:|---:|---:|\n' > "$$table"; \
	crashed=""; \
	for target in $$targets; do \
	  echo "== $$target: $(FUZZ_RUNS) executions"; \
	  found="$(CARGO_TARGET_DIR)/fuzz-corpus/$$target"; mkdir -p "$$found"; \
	  log="$(CURDIR)/target/fuzz-artifacts/$$target.log"; status=0; \
	  TMPDIR="$(FUZZ_TMPDIR)" RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $(FUZZ_SANITIZER) "$$target" "$$found" "corpus/$$target" -- \
	    -runs=$(FUZZ_RUNS) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix="$(CURDIR)/target/fuzz-artifacts/$$target-" 2>&1 | tee "$$log" | grep -E '^(#[0-9]+\s+(pulse|DONE)|==|Done|INFO: Running)' || true; \
	  grep -qE '^Done [0-9]+ runs' "$$log" || { status=1; crashed="$$crashed $$target"; }; \
	  runs=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$$log"); \
	  seconds=$$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$$log"); \
	  printf '| %s | %s | %s | %s | %s |\n' "$$target" "$${runs:-?}" "$${seconds:-?}" \
	    "$$( [ -n "$$runs" ] && [ "$${seconds:-0}" -gt 0 ] && echo $$((runs / seconds)) || echo '?')" "$$status" >> "$$table"; \
	done; \
	cat "$$table"; \
	if [ -n "$$crashed" ]; then echo "Fuzz targets that failed:$$crashed (inputs in target/fuzz-artifacts)" >&2; exit 1; fi

clean: ## Remove the build cache and test results (installed tools stay)
	rm -rf "$(CARGO_TARGET_DIR)" "$(TEST_RESULTS)"
