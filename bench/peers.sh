#!/usr/bin/env bash
# dateline beside its peers over the same synthetic pages (benches/e2e.rs --peers):
# installs rsspls (crates.io) into bench/.tools and a Python venv with aiohttp, selectolax and
# feedgen (PyPI) into bench/.venv, each only if missing, then runs the benchmark.
#
#   bash bench/peers.sh             # 500 feeds
#   FEEDS=50 bash bench/peers.sh    # a quick run
#
# Extra arguments go to the benchmark, e.g. `bash bench/peers.sh --compression`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tools="$root/bench/.tools"
venv="$root/bench/.venv"

if [[ ! -x "$tools/bin/rsspls" ]]; then
    echo "installing rsspls into $tools (compiles for a few minutes)" >&2
    cargo install rsspls --locked --root "$tools"
fi

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import aiohttp, selectolax, feedgen' 2>/dev/null; then
    echo "creating the Python venv in $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet aiohttp selectolax feedgen tzdata
fi

export DATELINE_BENCH_RSSPLS="$tools/bin/rsspls"
export DATELINE_BENCH_PYTHON="$venv/bin/python"
cargo bench --bench e2e -- --peers --feeds "${FEEDS:-500}" "$@"
