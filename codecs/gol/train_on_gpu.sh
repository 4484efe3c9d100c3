#!/usr/bin/env bash
# One GPU lease trains every GoL stage: run from the repository root on a machine with CUDA and
# PyTorch, with the pack (codecs/gol/pack, made here by `python -m bench.gol.pack --config CONFIG`)
# and wheels of constriction, lpips, ffmpeg-python and future in .whl/ beside it (see docs/gol.md).
#   OUT=/path/for/results MINUTES=8 BUDGET=tokenizer=4,codec=0.9,generator=0.9,decoder=1.7 \
#     bash codecs/gol/train_on_gpu.sh [CONFIG] [--init-from CHECKPOINT ...]
# Writes $OUT/result.tar.part-* (split at 15 MB: the weights, the cross-device check files, the
# losses and the log); join them with `cat result.tar.part-* | tar -x`.
set -uo pipefail
CONFIG=${1:-codecs/gol/gol-small.toml}; shift || true
: "${OUT:?set OUT to a folder for the results}"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD
fi
export TORCH_HOME=$PWD/codecs/gol/pack/torch_home BENCH_CACHE_DIR=/tmp/bench-cache PYTHONUNBUFFERED=1
RES=/tmp/gol-result; rm -rf "$RES" /tmp/gol-run; mkdir -p "$RES" "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -m bench.gol.train --config "$CONFIG" --out /tmp/gol-run --minutes "${MINUTES:-8}" \
  --budget "${BUDGET:-tokenizer=4,codec=0.9,generator=0.9,decoder=1.7}" \
  --save-weights "$RES/gol.pt" --check-dir "$RES/check" --no-finalise "$@" 2>&1 | tee "$RES/train.log"
rc=${PIPESTATUS[0]}
cp /tmp/gol-run/losses.jsonl "$RES/" 2>/dev/null
tar -C "$RES" -cf - . | split -b 15000000 - "$OUT/result.tar.part-"
exit "$rc"
