#!/usr/bin/env bash
# The committed populations: RegNetX, AnyNetX_A and AnyNetX_E (the paper's Figure 9 comparison),
# N models each from the paper's distribution at 2-5 MFLOPs (28x28, small-image stem), every one
# trained with the default brief recipe on Fashion-MNIST, then exported to results/<space>.csv and
# compared in results/report/. Each study runs two workers with one thread each (the fastest
# layout on 2 cores, see BENCHMARKS.md). Resumable: rerun it and finished trials are kept.
# (--encoding raw is what --sampler design uses anyway: the paper's parameters, exactly.)
#   bash scripts/populations.sh     # N=128: about 40 minutes per space, 2 hours in all, on 2 cores
set -euo pipefail
cd "$(dirname "$0")/.."
RS=.venv/bin/regnet-space
N=${N:-128}
DB=${DB:-sqlite:///results/populations.db}
for sp in regnetx anynetx_a anynetx_e; do
  args=(sweep --space "$sp" --flops 2M:5M --trials "$N" --sampler design --sampler-seed 0 --encoding raw
        --storage "$DB" --study "pop-$sp" --data fashion-mnist --seed 0 --threads 1)
  $RS "${args[@]}" &
  second=$!
  $RS "${args[@]}"
  wait "$second"
  $RS export --storage "$DB" --study "pop-$sp" --out "results/$sp.csv" --force
done
$RS compare results/regnetx.csv results/anynetx_a.csv results/anynetx_e.csv \
    --labels RegNetX,AnyNetX_A,AnyNetX_E --normalize flops --out results/report --seed 0 --force
