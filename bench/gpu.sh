#!/usr/bin/env bash
# bench/gpu.sh DIR: on a Linux machine with one NVIDIA GPU, install Argus, run the GPU tests
# and `argus bench` on CUDA, and leave the JSON, the benchmark row and the logs in DIR; the row
# is also added to docs/benchmarks.md (`argus bench --record`).
# Budget: 8 minutes on an H100-class GPU; it took 4 min 40 s on an H100 80GB (2026-11-26).
#
# Python: $PYTHON (default python3) must already hold a CUDA build of torch.
# - Online: Argus and what it lacks are pip-installed into that Python's environment (point
#   PYTHON at a venv of your own to keep it apart).
# - Offline: WHEELS=folder of wheels of exactly what that Python lacks (the argus[embedded,
#   weights,dev] dependencies beside torch and transformers); they are unpacked, without
#   dependency resolution, into .gpu-site/ and put on PYTHONPATH with this checkout.
# The heads come from the model store (ARGUS_MODEL_STORE, default .argus/models); when it has
# none they are built here, which needs the `data` extra (see the Makefile).
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

if [[ -n "${WHEELS:-}" ]]; then
    "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --upgrade \
        --target .gpu-site "$WHEELS"/*.whl 2>&1 | tee "$OUT/install.log"
    export PYTHONPATH="$PWD:$PWD/.gpu-site${PYTHONPATH:+:$PYTHONPATH}"
else
    "$PYTHON" -m pip install -q -e ".[embedded,weights,dev]" 2>&1 | tee "$OUT/install.log"
fi
ARGUS=("$PYTHON" -m streams.cli)
export ARGUS_DEVICE=cuda

# A failing GPU test still leaves the benchmark to run (the machine may be lent only once).
tests=0
"$PYTHON" -m pytest -q -m gpu -p no:cacheprovider 2>&1 | tee "$OUT/gpu-tests.log" || tests=$?
STORE=${ARGUS_MODEL_STORE:-.argus/models}
if [[ ! -f "$STORE/topic/card.json" || ! -f "$STORE/sentiment/card.json" ]]; then
    "${ARGUS[@]}" models build 2>&1 | tee "$OUT/models-build.log"
fi
# --record adds the run's row to docs/benchmarks.md; --json makes the summary the last line.
"${ARGUS[@]}" bench --json --out "$OUT/bench.json" --record 2>&1 | tee "$OUT/bench.log"
tail -n 1 "$OUT/bench.log" >"$OUT/summary.json"
grep "^| $(date -u +%Y-%m-%d) |" docs/benchmarks.md | tail -n 1 >"$OUT/row.md"
echo "wrote $OUT: device.txt gpu-tests.log bench.json summary.json row.md and logs"
exit "$tests"
