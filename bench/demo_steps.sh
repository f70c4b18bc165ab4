#!/usr/bin/env bash
# CPU of each build step of `./build.sh demo`, one at a time, each in a fresh cargo target
# directory (the crates already downloaded: the cargo home's registry is kept, so this measures
# compiling, not downloading). bench/demo_time.sh measures the whole from a fresh clone.
#
#   bench/demo_steps.sh [STEP...]      (work dir: target/bench/demo-steps, DEMO_STEPS_DIR to change)
#
# Steps (default: all of them, in this order):
#   bindgen          cargo install wasm-bindgen-cli --debug (what build.sh runs)
#   bindgen-nodebug  the same without debug info (CARGO_PROFILE_DEV_DEBUG=0)
#   wasm             the three wasm32 builds of the package, one after the other in one target
#                    directory in the order `./build.sh demo` runs them: lean (profile lean: before
#                    the demo's URL), then full (release) and PDF (after it)
#   cli:FEATURES     cargo build --bin docent --no-default-features --features FEATURES, then
#                    the demo site's renderer (--example demo_site) in the same target directory
#   demo-cli         what `./build.sh demo` builds natively: the CLI and the renderer in one cargo
#                    call (--bin docent --example demo_site, features parallel,models), its proc
#                    macros at opt-level 0 (build.sh's DEMO_MACRO_CRATES)
#   macros, macros-o0  the proc-macro crates of the demo's CLI alone (cargo build -p each), at the
#                    dev profile's opt-level 3, and at opt-level 0 as ./build.sh demo compiles
#                    them (build.sh's DEMO_MACRO_CRATES)
#   model:FEATURES   `docent model` with the CLI of the step cli:FEATURES (run that step first)
#   model-int8:FEATURES  the same with --no-static (the int8 MiniLM only)
#
# With DEMO_STEPS_PER_CRATE=1 each rustc call's CPU is also logged (bench/rustc_time.sh) to
# <work dir>/<step>.crates, one line per call: user, system, crate name, crate type.
#
# One line per step: user and system CPU seconds, wall seconds, the load average before and after
# (the machine may be shared: compare CPU seconds), and the command.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(realpath -m "${DEMO_STEPS_DIR:-target/bench/demo-steps}")
mkdir -p "$work"
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)

# timed NAME COMMAND...: runs it, prints "NAME user sys wall load-before load-after :: command".
timed() {
    local name=$1 load tf="$work/.time"
    shift
    load=$(cut -d' ' -f1 /proc/loadavg)
    if [ -n "${DEMO_STEPS_PER_CRATE:-}" ]; then
        rm -f "$work/$name.crates"
        export RUSTC_WRAPPER="$PWD/bench/rustc_time.sh" RUSTC_TIME_LOG="$work/$name.crates"
    fi
    /usr/bin/time -f '%U %S %e' -o "$tf" "$@" >"$work/$name.log" 2>&1 || {
        tail -n 30 "$work/$name.log" >&2
        echo "demo_steps: $name failed (log: $work/$name.log)" >&2
        exit 1
    }
    printf '%-28s %8s %7s %8s  load %s→%s  :: %s\n' "$name" $(cat "$tf") "$load" \
        "$(cut -d' ' -f1 /proc/loadavg)" "$*"
}

wasm_flags="--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo --remap-path-prefix=$PWD=/docent"

step() {
    local s=$1 t
    case $s in
        bindgen | bindgen-nodebug)
            t="$work/$s"
            rm -rf "$t"
            if [ "$s" = bindgen ]; then
                timed "$s" cargo install wasm-bindgen-cli --version "$version" --debug \
                    --root "$t/root" --target-dir "$t/target"
            else
                CARGO_PROFILE_DEV_DEBUG=0 timed "$s" cargo install wasm-bindgen-cli \
                    --version "$version" --debug --root "$t/root" --target-dir "$t/target"
            fi
            ;;
        wasm)
            t="$work/wasm"
            rm -rf "$t"
            export CARGO_TARGET_DIR=$t CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS=$wasm_flags
            local w=(--target wasm32-unknown-unknown --no-default-features)
            timed wasm-lean cargo build --lib --profile lean "${w[@]}"
            timed wasm-full cargo build --lib --profile release "${w[@]}" --features models,instant-distance
            timed wasm-pdf cargo build --lib --profile release "${w[@]}" --features pdf-module
            unset CARGO_TARGET_DIR CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
            ;;
        macros | macros-o0)
            t="$work/$s"
            rm -rf "$t"
            local macros conf=()
            mapfile -t macros < <(cargo tree -e normal,build --no-default-features --features parallel,models \
                --prefix none | awk '/\(proc-macro\)/ { print $1 "@" substr($2, 2) }' | sort -u)
            [ "$s" = macros-o0 ] && mapfile -t conf < <(source <(sed -n '/^DEMO_MACRO_CRATES=/,/^}/p' build.sh) && demo_cargo_config)
            CARGO_TARGET_DIR=$t timed "$s" cargo build "${conf[@]}" "${macros[@]/#/-p=}"
            ;;
        demo-cli)
            t="$work/$s"
            rm -rf "$t"
            local conf
            mapfile -t conf < <(source <(sed -n '/^DEMO_MACRO_CRATES=/,/^}/p' build.sh) && demo_cargo_config)
            CARGO_TARGET_DIR=$t timed "$s" cargo build --bin docent --example demo_site \
                --no-default-features --features parallel,models "${conf[@]}"
            ;;
        cli:*)
            local f=${s#cli:}
            t="$work/cli-${f//,/-}"
            rm -rf "$t"
            CARGO_TARGET_DIR=$t timed "$s" cargo build --bin docent --no-default-features --features "$f"
            CARGO_TARGET_DIR=$t timed "demo_site:$f" cargo build --example demo_site --no-default-features --features "$f"
            ;;
        model:* | model-int8:*)
            local f=${s#*:} extra=()
            [ "${s%%:*}" = model-int8 ] && extra=(--no-static)
            t="$work/cli-${f//,/-}"
            rm -rf "$work/models-$s"
            timed "$s" "$t/debug/docent" model --from .cache/minilm-src/model --out "$work/models-$s" \
                --corpus "$(rustc --print sysroot)/share/doc/rust/html/book" "${extra[@]}"
            ;;
        *) echo "demo_steps: unknown step $s" >&2; exit 2 ;;
    esac
}

steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(bindgen bindgen-nodebug wasm cli:parallel,models,instant-distance,pdf
    cli:parallel,models model:parallel,models model-int8:parallel,models)
echo "demo_steps: $(nproc) cores, commit $(git rev-parse --short HEAD), $(date -u +%FT%TZ)"
for s in "${steps[@]}"; do step "$s"; done
