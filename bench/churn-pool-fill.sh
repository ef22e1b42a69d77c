#!/bin/sh
# The curve the kernel gives as the source-port pool fills: tcp_tw_reuse=0 in a private namespace,
# a 10,000-port range, rate over time until exhaustion — plain close, --linger0, and two sources.
# Charts go to bench/out/ (git-ignored); the summary lines are what bench/README.md quotes.
#   sh bench/churn-pool-fill.sh            (needs `npx tsup` and the addon built)
set -eu
cd "$(dirname "$0")/.."
mkdir -p bench/out
run() {
  name=$1
  shift
  node dist/cli/main.js bench churn --rehearse --pool 10000 --chart "bench/out/pool-fill-$name.html" --json "$@" \
    >"bench/out/pool-fill-$name.json"
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const s = r.samples.filter((x) => x.ratePerSec > 0);
    const at = (f) => s.find((x) => x.poolUsage >= f);
    const rate = (f) => (at(f) ? at(f).ratePerSec : "-");
    console.log(`${process.argv[2]}: ${r.connects} connects in ${(r.durationMs / 1000).toFixed(2)} s; ` +
      `rate at 10/50/90/99 % of the pool: ${rate(0.1)} / ${rate(0.5)} / ${rate(0.9)} / ${rate(0.99)} per s; ` +
      `TIME_WAIT peak ${r.timeWaitPeak}; exhausted at ${r.rehearsal?.exhaustedAt ?? "never"}` +
      (r.firstFailure ? ` (${r.firstFailure.code}, ${r.firstFailure.diagnosis?.cause})` : ""));
  ' "bench/out/pool-fill-$name.json" "$name"
}
run plain
run linger0 --linger0 --duration 5
run two-sources --source 127.0.0.1 --source 127.0.0.2 --bind-no-port
