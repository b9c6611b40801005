#!/usr/bin/env bash
# `cakemock run --dry-run` of one campaign of N contacts to /dev/null: events per second
# and peak memory (max RSS), for several N in one run so the ratios are comparable.
# Usage: benches/campaign.sh [N...]   (default: 10000 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-10000 100000 1000000}")
[ $# -gt 0 ] || sizes=(10000 100000 1000000)
cargo build --release --quiet
bin=target/release/cakemock
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in "${sizes[@]}"; do
  cat >"$tmp/c.yaml" <<YAML
version: 1
seed: 1
steps:
  - campaign:
      id: 790
      contacts: $n
      over: 48h
      funnel: { bounced: 2%, opened: 45%, clicked: 12%, unsubscribed: 0.5%, spam_complaint: 0.1% }
YAML
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$bin" run "$tmp/c.yaml" --dry-run --secret s >/dev/null 2>"$tmp/err"
  read -r secs rss_kb <"$tmp/time"
  events=$(grep -o 'dry run: [0-9]* requests' "$tmp/err" | grep -o '[0-9]*' | head -1)
  awk -v n="$n" -v e="$events" -v s="$secs" -v kb="$rss_kb" 'BEGIN {
    printf "run --dry-run, %8d contacts: %8d events in %6.2fs = %8.0f events/s, peak RSS %.1f MiB\n", n, e, s, e / s, kb / 1024
  }'
done
