#!/usr/bin/env bash
# The main job on the embedded defaults: sweep two design spaces briefly on Fashion-MNIST into the
# SQLite study file ./regnet-space.db, export both populations, and write the comparison report.
# Re-running resumes the studies (finished trials are kept), so an interrupted demo loses nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
RS=.venv/bin/regnet-space
N=${N:-8}
OUT=${OUT:-demo}
COMMON=(--flops 2M:5M --n "$N" --data fashion-mnist --epochs 2 --batch-size 64 --lr 0.1 --train-size 4000 --test-size 1000 --seed 0)
$RS sweep --space regnetx --study demo-regnetx --sampler design "${COMMON[@]}"
$RS sweep --space anynetx_a --study demo-anynetx_a --sampler design "${COMMON[@]}"
$RS export --study demo-regnetx --out "$OUT/regnetx.csv"
$RS export --study demo-anynetx_a --out "$OUT/anynetx_a.csv"
$RS compare "$OUT/regnetx.csv" "$OUT/anynetx_a.csv" --labels RegNetX,AnyNetX_A --out "$OUT/report"
echo "report: $OUT/report/index.html"
