#!/usr/bin/env bash
# The main job on the embedded defaults: sample RegNetX and AnyNetX_A at 2-5 MFLOPs (28x28), train
# every model briefly on Fashion-MNIST (the brief recipe: 3 epochs on 10,000 images, ranked on
# 5,000 validation images, tested on the 10,000 test images) into the SQLite study file
# ./regnet-space.db, export both populations (and their learning curves)
# and write the comparison report. The two sweeps run side by side with one thread each (the
# fastest layout on a 2-core machine, see BENCHMARKS.md). Re-running resumes the studies: finished trials are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
RS=.venv/bin/regnet-space
N=${N:-8}
OUT=${OUT:-demo}
COMMON=(--flops 2M:5M --trials "$N" --sampler design --data fashion-mnist --seed 0 --threads 1)
$RS sweep --space regnetx --study demo-regnetx "${COMMON[@]}" &
first=$!
$RS sweep --space anynetx_a --study demo-anynetx_a "${COMMON[@]}"
wait "$first"
$RS export --study demo-regnetx --out "$OUT/regnetx.csv" --force
$RS export --study demo-anynetx_a --out "$OUT/anynetx_a.csv" --force
$RS compare "$OUT/regnetx.csv" "$OUT/anynetx_a.csv" --labels RegNetX,AnyNetX_A --out "$OUT/report" --force
echo "report: $OUT/report/index.html"
