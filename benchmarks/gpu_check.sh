#!/usr/bin/env bash
# The whole GPU check in one command, for a lent GPU machine whose python3 has CUDA torch, timm,
# pandas and pytest but not optuna: it installs the carried wheels (.gpu/whl, see BENCHMARKS.md)
# into /tmp/site, points the package at the carried Fashion-MNIST files (.gpu/data), runs the
# GPU-marked tests, then benchmarks/gpu_check.py. Everything lands in OUT.
#   bash benchmarks/gpu_check.sh OUT [MINUTES]
set -u
OUT=${1:?usage: gpu_check.sh OUT [MINUTES]}
MINUTES=${2:-6}
mkdir -p "$OUT"
if compgen -G ".gpu/whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .gpu/whl/*.whl >"$OUT/pip.txt" 2>&1 || { cat "$OUT/pip.txt"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
[ -d .gpu/data ] && export REGNET_SPACE_FASHION_MNIST=$PWD/.gpu/data
export PYTHONUNBUFFERED=1
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1
python3 -c "import torch, optuna, timm; print(torch.__version__, optuna.__version__, timm.__version__, torch.cuda.get_device_name(0))" 2>&1 | tee "$OUT/versions.txt"
timeout 300 python3 -m pytest -q -p no:cacheprovider -rA tests/test_gpu.py tests/test_memory_format.py \
  >"$OUT/pytest_gpu.txt" 2>&1
echo "pytest exit $?" >>"$OUT/pytest_gpu.txt"
tail -25 "$OUT/pytest_gpu.txt"
python3 benchmarks/gpu_check.py --out "$OUT/check" --minutes "$MINUTES" 2>"$OUT/check.log"
echo "gpu_check exit $?"
tail -40 "$OUT/check.log"
