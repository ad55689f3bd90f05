#!/bin/bash
# The GPU section of `make bench` on a lent accelerator machine (JAX and PyTorch, no TensorFlow, no
# network), prepared and tested on a CPU on 2026-12-04 but not yet run there (the loan was paused).
#
# Prepare, from the repository root of a checkout:
#   echo /.gpudata/ >> .git/info/exclude; echo /.whl/ >> .git/info/exclude
#   mkdir -p .gpudata && cp ../shared/data/fashion-mnist/*.csv.gz .gpudata/
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl \
#     imbalanced_learn==0.14.2 keras==3.15.1 namex==0.1.0 optree==0.20.0 prettytable==3.19.0 sklearn_compat==0.1.6 skops==0.16.0 tomli_w==1.2.0 wcwidth==0.9.4
# then: run(command="bash bench/gpu.sh", carry=[".gpudata", ".whl"], timeout_s=480), and copy the
# sections appended to bench/RESULTS.md ($OUT holds it) into the repository's copy.
set -o pipefail
PY=${PY:-python3}; DATA=${DATA:-.gpudata}
TI=${TI:-60000}; ROUNDS=${ROUNDS:-2}; EP=${EP:-10}; EPL=${EPL:-30}; BUD=${BUD:-150}; RB=${RB:-300}; RT=${RT:-170}
export PYTHONUNBUFFERED=1 KERAS_BACKEND=jax
{ date; nproc; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; } 2>&1 | tee $OUT/env.log
$PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
$PY -c "import sys, jax, keras; print(sys.version, jax.__version__, jax.devices(), keras.__version__)" 2>&1 | tee -a $OUT/env.log || exit 1
S=$SECONDS
echo "== bench 1 (make bench's parts, batch 512, $EP epochs): $(date +%T)"
$PY bench/bench.py --data $DATA --batch 512 --throughput-images $TI --rounds $ROUNDS --epochs $EP --budget $BUD 2>&1 | tee $OUT/bench.log
echo "== bench 2 (time to accuracy, $EPL epochs): $((SECONDS-S)) s"
$PY bench/bench.py --data $DATA --batch 512 --parts accuracy --epochs $EPL --budget $BUD 2>&1 | tee $OUT/bench2.log
echo "== recipe full: $((SECONDS-S)) s"
timeout $RT $PY bench/recipe.py --data $DATA --parts full --recipes '' --budget $RB 2>&1 | tee $OUT/recipe.log
echo "== end: $((SECONDS-S)) s"
cp bench/RESULTS.md bench/results.csv bench/recipe.csv $OUT/
