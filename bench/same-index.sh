#!/usr/bin/env bash
# Did a change leave docent's output alone? Builds the docent CLI at BASE_REV (default: the
# merge-base of HEAD and main) in a temporary git worktree and from this working tree (uncommitted
# changes included), then indexes the same input with both, with every embedder, and compares:
# index.bin, manifest.json and every other file written, byte for byte, and the JSON that
# `docent search` prints for a few reader questions.
#
# Usage: bench/same-index.sh [--docs-only] [BASE_REV]
#
# Inputs: docs/ as of BASE_REV (so a change to the docs themselves does not count), with the
# hashing, static and minilm embedders; then (unless --docs-only) seven books of the Rust
# toolchain's documentation (rust-docs), about 16,000 chunks with static embeddings, so that the
# HNSW graph is built and searched too (only indexes of 10,000 rows or more get one). static and
# minilm read the prepared models in models/ (`./build.sh setup`), the same files for both.
#
# Both builds share the cargo target directory (CARGO_TARGET_DIR, else ./target), so BASE reuses
# the compiled dependencies (BASE's own crate is built with an extra, unused cargo feature, so its
# artifacts do not replace this tree's). What legitimately differs is handled, not ignored: the
# crate version is written into index.bin's meta section and the manifest's created_by, so when
# BASE has another version number it is built with this tree's one. The manifest holds no
# timestamp. The runtime files (docent.js, the wasm) are not copied: the indexes are written from
# a folder without pkg/ and with DOCENT_ASSETS unset.
#
# Prints one line per input and embedder (same / differs, with sizes) and exits 1 on any
# difference, 2 on a usage or set-up error.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

large=1
case "${1:-}" in
    --docs-only) large=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
esac
[ $# -le 1 ] || { echo "usage: bench/same-index.sh [--docs-only] [BASE_REV]" >&2; exit 2; }
base_rev=${1:-}
if [ -z "$base_rev" ]; then
    base_rev=$(git merge-base HEAD main) || { echo "same-index: no merge-base of HEAD and main: pass BASE_REV" >&2; exit 2; }
fi
base=$(git rev-parse --verify --quiet "$base_rev^{commit}") || { echo "same-index: $base_rev is not a commit" >&2; exit 2; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
MODELS="$ROOT/models"
for f in static.bin minilm.int8 tokenizer.json config.json; do
    [ -f "$MODELS/$f" ] || { echo "same-index: $MODELS/$f is missing: run ./build.sh setup" >&2; exit 2; }
done
BOOKS="$(rustc --print sysroot)/share/doc/rust/html"
if [ "$large" = 1 ] && [ ! -d "$BOOKS/book" ]; then
    echo "same-index: the toolchain's documentation is missing ($BOOKS): run ./build.sh setup or pass --docs-only" >&2
    exit 2
fi

work=$(mktemp -d)
cleanup() {
    git worktree remove --force "$work/base-src" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
say() { printf '%s\n' "$*" >&2; }

crate_version() { awk -F'"' '/^version = / { print $2; exit }' "$1"; }
version=$(crate_version Cargo.toml)

say "same-index: building docent at $(git rev-parse --short "$base") ($base_rev) in a temporary worktree"
git worktree add --detach --quiet "$work/base-src" "$base"
base_version=$(crate_version "$work/base-src/Cargo.toml")
if [ "$base_version" != "$version" ]; then
    say "same-index: BASE is docent $base_version, this tree $version; BASE is built as $version (the version is written into index.bin and manifest.json)"
    sed -i "0,/^version = /s/^version = .*/version = \"$version\"/" "$work/base-src/Cargo.toml"
fi
# cargo names a workspace crate's artifacts by a hash that leaves out its folder, so BASE built
# as it is would overwrite this tree's docent artifacts in the shared target directory, and cargo
# would then take them for this tree's (their sources are older). An extra, unused feature gives
# BASE artifacts of its own; the dependencies are shared as usual.
if grep -q '^\[features\]' "$work/base-src/Cargo.toml"; then
    sed -i 's/^\[features\]$/[features]\nsame-index-base = []/' "$work/base-src/Cargo.toml"
else
    printf '\n[features]\nsame-index-base = []\n' >>"$work/base-src/Cargo.toml"
fi
(cd "$work/base-src" && cargo build --quiet --bin docent --features same-index-base)
cp "$CARGO_TARGET_DIR/debug/docent" "$work/docent-base"
# Built second, so target/debug/docent is this tree's binary again afterwards (cargo links even a
# fresh binary into place).
say "same-index: building docent from the working tree"
cargo build --quiet --bin docent
cp "$CARGO_TARGET_DIR/debug/docent" "$work/docent-current"
if cmp -s "$work/docent-base" "$work/docent-current"; then
    say "same-index: the two builds gave the same binary file: this tree's build was not rebuilt (shared target directory?)"
    exit 2
fi

mkdir -p "$work/input/docs" "$work/run"
git archive "$base" docs | tar -x -C "$work/input/docs" --strip-components=1
if [ "$large" = 1 ]; then
    mkdir -p "$work/input/books"
    for d in book reference rust-by-example unstable-book error_codes cargo rustc; do
        cp -r "$BOOKS/$d" "$work/input/books/"
    done
fi

DOCS_QUESTIONS=(
    "How do I add docent to a static site?"
    "Which embedder should I pick for a small site?"
    "How does docent decide that a question is not covered by the documents?"
    "Can I use my own language model endpoint?"
    "What is a good recipe for banana bread?"
)
BOOKS_QUESTIONS=(
    "How do I read a file line by line?"
    "What does the borrow checker complain about when I return a reference to a local?"
    "How do I publish a crate?"
    "What is error E0382?"
    "Which planets have rings?"
)

# index_and_search BIN OUT INPUT EMBEDDER QUESTION...: the index in OUT, the search output in
# OUT.search (the folder holds only what `docent index` wrote).
index_and_search() {
    local bin=$1 out=$2 input=$3 embedder=$4 q
    shift 4
    (cd "$work/run" && env -u DOCENT_ASSETS DOCENT_MODEL_DIR="$MODELS" \
        "$bin" index "$input" --out "$out" --embedder "$embedder" >"$out.log" 2>&1) ||
        { cat "$out.log" >&2; say "same-index: $bin index failed"; exit 2; }
    for q in "$@"; do
        (cd "$work/run" && env -u DOCENT_ASSETS DOCENT_MODEL_DIR="$MODELS" "$bin" search "$out" "$q" --json) >>"$out.search" 2>>"$out.log" ||
            { cat "$out.log" >&2; say "same-index: $bin search failed"; exit 2; }
    done
}

size() { wc -c <"$1" | tr -d ' '; }

# compare NAME INPUT EMBEDDER QUESTION...: prints one line, returns 1 when anything differs.
compare() {
    local name=$1 input=$2 embedder=$3 a b diffs=() f
    shift 3
    a="$work/out/base-$name-$embedder"
    b="$work/out/current-$name-$embedder"
    mkdir -p "$work/out"
    index_and_search "$work/docent-base" "$a" "$input" "$embedder" "$@"
    index_and_search "$work/docent-current" "$b" "$input" "$embedder" "$@"
    cmp -s "$a/index.bin" "$b/index.bin" || diffs+=("index.bin $(size "$a/index.bin") vs $(size "$b/index.bin") bytes")
    cmp -s "$a/manifest.json" "$b/manifest.json" || diffs+=("manifest.json")
    # Every other file written (the model files the browser needs) and none missing on either side.
    while IFS= read -r f; do
        case $f in index.bin | manifest.json) ;; *) diffs+=("$f") ;; esac
    done < <(diff -rq "$a" "$b" 2>&1 | sed -n "s|^Files $a/\(.*\) and $b/.* differ$|\1|p; s|^Only in \(.*\): \(.*\)$|only in \1/\2|p" | sed "s|$work/out/||")
    cmp -s "$a.search" "$b.search" || diffs+=("search output for $# questions")
    local what="index.bin $(size "$b/index.bin") bytes, manifest.json $(size "$b/manifest.json") bytes, $# searches ($(size "$b.search") bytes of JSON)"
    if [ ${#diffs[@]} -eq 0 ]; then
        printf '%-8s %-8s same     %s\n' "$name" "$embedder" "$what"
    else
        local joined
        joined=$(printf '%s; ' "${diffs[@]}")
        printf '%-8s %-8s DIFFERS  %s\n' "$name" "$embedder" "${joined%; }"
        return 1
    fi
}

say "same-index: docent $(git rev-parse --short "$base") vs the working tree"
failed=0
for embedder in hashing static minilm; do
    compare docs "$work/input/docs" "$embedder" "${DOCS_QUESTIONS[@]}" || failed=1
done
if [ "$large" = 1 ]; then
    compare books "$work/input/books" static "${BOOKS_QUESTIONS[@]}" || failed=1
fi
exit "$failed"
