#!/usr/bin/env bash
# End-to-end throughput of `cakemock trigger --count N` into the embedded receiver:
# events per second and peak memory (max RSS). Usage: benches/trigger.sh [N] [CONCURRENCY]
# Builds the release binary first. Figures vary with the machine: compare ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
conc=${2:-8}
cargo build --release --quiet
bin=target/release/cakemock
out=$(mktemp)
/usr/bin/time -f '%e %M' -o "$out.time" "$bin" trigger email.opened --count "$n" --concurrency "$conc" --seed 1 \
  >/dev/null 2>"$out.err" || { cat "$out.err"; exit 1; }
read -r secs rss_kb <"$out.time"
delivered=$(grep -o '[0-9]* delivered' "$out.err" | head -1)
awk -v n="$n" -v s="$secs" -v kb="$rss_kb" -v d="$delivered" -v c="$conc" 'BEGIN {
  printf "trigger --count %d --concurrency %d: %s in %.2fs = %.0f events/s, peak RSS %.1f MiB\n", n, c, d, s, n / s, kb / 1024
}'
rm -f "$out" "$out.time" "$out.err"
