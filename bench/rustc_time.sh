#!/usr/bin/env bash
# A RUSTC_WRAPPER that appends each rustc call's CPU to $RUSTC_TIME_LOG: "user sys crate-name
# crate-type". bench/demo_steps.sh sets it (DEMO_STEPS_PER_CRATE=1) to see which crates a build's
# CPU goes to; cargo calls it as `rustc_time.sh RUSTC ARGS...`.
set -euo pipefail
name=? kind=?
args=("$@")
for ((i = 1; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        --crate-name) name=${args[i + 1]} ;;
        --crate-type) kind=${args[i + 1]} ;;
    esac
done
exec /usr/bin/time -a -o "${RUSTC_TIME_LOG:?set by bench/demo_steps.sh}" -f "%U %S $name $kind" "$@"
