#!/usr/bin/env bash
# Sets up everything regnet-space needs on a fresh Debian machine with Python 3.11:
# the Fashion-MNIST data set (Debian package, needs root), a virtual environment in .venv with
# torch, timm, optuna, nni (+ what nnictl and nni.nas need), and the package itself (editable).
# Safe to re-run: finished steps are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

need_apt=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
"$PY" -c "import ensurepip, venv" 2>/dev/null || need_apt+=(python3-venv)
# PostgreSQL's server programs (initdb, pg_ctl): tests/test_storage_pg.py runs a throwaway cluster
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
# a single-node Slurm cluster (slurmctld, slurmd, munge): tests/test_slurm.py starts one
command -v slurmctld >/dev/null || need_apt+=(slurm-wlm)
command -v munged >/dev/null || need_apt+=(munge)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}"
    apt-get update -qq && apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: please run as root (or install with sudo): apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.regnet-space-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing packages into .venv (a few minutes the first time)"
  .venv/bin/pip install -q --upgrade pip
  # torch/torchvision pinned to the releases this project is tested with; timm needs torchvision
  .venv/bin/pip install -q "torch==2.14.1" "torchvision==0.29.1"
  # cluster: submitit (Slurm), ray, grpcio (the storage proxy); tests/test_slurm.py etc. need them
  .venv/bin/pip install -q -e ".[all,cluster,test,synetune]"
  touch "$stamp"
fi
echo "setup: ready (.venv/bin/regnet-space)"
