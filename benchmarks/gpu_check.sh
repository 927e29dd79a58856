#!/usr/bin/env bash
# The GPU check: the default stop-sign `advbench generate-attacks` and one seed of every detector
# of Table 4 and Table 1 (`--detectors all,ablation`) on --device (cuda), then the same seed of the
# same detectors on the CPU from the same benchmark file; times each stage and compares every AUC
# of the two runs (benchmarks/compare_runs.py). Our goal for Table 4 + Table 1 on one GPU: 3 minutes.
#
#   benchmarks/gpu_check.sh [--device cuda] [--gtsrb-root DIR] [--out DIR] [--detectors LIST]
#                           [--jobs N] [-- generate-attacks options...]
#
# Options after `--` go to generate-attacks (the tests pass a tiny victim and short attacks and
# run the whole logic with --device cpu). Writes into --out (default runs/gpu-check): the
# benchmark file, run-<device>/ and run-cpu-reference/, stages.tsv; prints the stage times and the comparison.
set -euo pipefail

DEVICE=cuda
GTSRB_ROOT=${ADVBENCH_GTSRB_ROOT:-../shared/data/gtsrb}
OUT=runs/gpu-check
DETECTORS=all,ablation
JOBS=1
PYTHON=${PYTHON:-python3}
GENERATE=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --device) DEVICE=$2; shift 2 ;;
        --gtsrb-root) GTSRB_ROOT=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --detectors) DETECTORS=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --) shift; GENERATE=("$@"); break ;;
        *) echo "gpu_check.sh: unknown option $1" >&2; exit 2 ;;
    esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
STAGES=$OUT/stages.tsv
printf 'stage\tseconds\n' > "$STAGES"

stage() {  # stage NAME COMMAND...: run COMMAND, append its wall-clock seconds to stages.tsv
    local name=$1 start end
    shift
    echo "== $name" >&2
    start=$(date +%s.%N)
    "$@"
    end=$(date +%s.%N)
    printf '%s\t%s\n' "$name" "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" >> "$STAGES"
}

DATA=$OUT/gtsrb_stop_adv.h5
rm -f "$DATA"
stage "generate-attacks ($DEVICE)" "$PYTHON" -m advbench generate-attacks --gtsrb-root "$GTSRB_ROOT" \
    --data-dir "$OUT/data" --device "$DEVICE" --out "$DATA" --quiet "${GENERATE[@]}"
run() {  # run DEVICE FOLDER: seed 0 of every detector on DEVICE
    stage "run $DETECTORS, seed 0 ($1)" "$PYTHON" -m advbench run --data "$DATA" --detectors "$DETECTORS" --seeds 1 \
        --jobs "$JOBS" --device "$1" --out "$2" --force
}
run "$DEVICE" "$OUT/run-$DEVICE"
run cpu "$OUT/run-cpu-reference"
column -t -s $'\t' "$STAGES" 2>/dev/null || cat "$STAGES"
"$PYTHON" "$HERE/compare_runs.py" "$OUT/run-$DEVICE" "$OUT/run-cpu-reference"
