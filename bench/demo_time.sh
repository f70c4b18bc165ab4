#!/usr/bin/env bash
# Time to the first demo on a fresh machine: `./build.sh demo` in a fresh clone of this
# repository's HEAD, with an empty cargo home (only rustup's proxies linked into it: no crate
# registry, no tool from `cargo install`), empty pip and npm caches and no models, timed from the
# start to the line that prints the demo's URL. Then one GET of the page, and the server stopped.
#
#   bench/demo_time.sh [WORK_DIR]     (default: target/bench/demo-time; removed first)
#
# Then it waits for the line saying the full and PDF modules are built (`./build.sh demo` builds
# them after the URL) and reads the tree's CPU again.
#
# Prints one line per phase seen in the log and a summary: wall seconds, CPU seconds of the whole
# process tree (user + system, children included) to the URL and to the whole package, the load
# average before and after. rustup's toolchain (with the wasm32 target) stays: a newcomer installs
# Rust before cloning.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(realpath -m "${1:-target/bench/demo-time}")
rm -rf "$work"
mkdir -p "$work/home/cargo/bin" "$work/home/cache" "$work/home/npm"
for t in cargo rustc rustup rustdoc; do ln -s "$(command -v "$t")" "$work/home/cargo/bin/$t"; done
git clone --quiet "$repo" "$work/clone"
cd "$work/clone"
log=$work/demo.log
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s.%N)
# The rustup proxies find the toolchain through RUSTUP_HOME, which stays the machine's. A target
# directory or rustc wrapper from the caller's environment would reuse or wrap its builds.
env -u CARGO_TARGET_DIR -u RUSTC_WRAPPER CARGO_HOME="$work/home/cargo" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
    XDG_CACHE_HOME="$work/home/cache" PIP_CACHE_DIR="$work/home/cache/pip" \
    npm_config_cache="$work/home/npm" PATH="$work/home/cargo/bin:/usr/bin:/bin" DOCENT_PORT=0 \
    setsid ./build.sh demo >"$log" 2>&1 &
pid=$!
url=
for _ in $(seq 1 7200); do # at most 2 hours, checked every second
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/' "$log" | head -n1 || true)
    [ -n "$url" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
done
end=$(date +%s.%N)
if [ -z "$url" ]; then
    tail -n 40 "$log" >&2
    echo "demo_time: ./build.sh demo stopped before printing its URL (log: $log)" >&2
    exit 1
fi
# CPU of the tree: build.sh's own counters hold every child it has waited for (cutime/cstime):
# the builds, the background jobs it joined, and the one after the URL once it has ended (the
# server, still running, is not in them).
tck=$(getconf CLK_TCK)
tree_cpu() { awk -v t="$tck" '{printf "%.0f", ($14 + $15 + $16 + $17) / t}' "/proc/$pid/stat"; }
cpu_url=$(tree_cpu)
status=$(curl -s -o /dev/null -w '%{http_code}' "$url")
printf 'wall to the URL: %.0f s; CPU of the tree: %s s; page GET: %s; load average %s\n' \
    "$(echo "$end - $start" | bc)" "$cpu_url" "$status" "$(cut -d' ' -f1-3 /proc/loadavg)"
rest=
for _ in $(seq 1 7200); do
    rest=$(grep -aoE 'done in the background: the full and PDF modules|building the full and PDF modules failed' "$log" | head -n1 || true)
    [ -n "$rest" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
done
rest_end=$(date +%s.%N)
sleep 1 # the shell reaps the finished job (its CPU joins the counters)
cpu_all=$(tree_cpu)
kill -TERM -- "-$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
grep -aE '==> \[' "$log" | sed 's/\x1b\[[0-9;]*m//g' | sed 's/^/  /' || true
printf 'commit %s\n' "$(git rev-parse --short HEAD)"
printf 'wall to the whole package: %.0f s; CPU of the tree: %s s (%s)\n' "$(echo "$rest_end - $start" | bc)" "$cpu_all" "${rest:-not seen}"
printf 'load average before %s, after %s; cores %s\n' "$load_before" "$load_after" "$(nproc)"
