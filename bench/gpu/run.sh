#!/usr/bin/env bash
# The whole GPU check as ONE command for a lent NVIDIA H100/H200 (device time is typically 15
# minutes in all; this aims at under 8). From the repository root, after bench/gpu/pack-carry.sh
# has filled the carried bench/gpu/carry/:
#     bench/gpu/run.sh                 # on the device: writes $OUT/gpu-results.{json,md}
#     bench/gpu/run.sh --dry-run       # here, on CPU: every step that can run without a GPU
# Steps, most important first (each with its own time limit; a step that would pass the budget is
# skipped and says so): facts, unpack the carried .NET runtime and app, `generalist doctor` with
# GENERALIST_LIBTORCH at the device's PyTorch libtorch, `bench --train` (fp32 and bf16) and the
# PyTorch peer (eager and torch.compile) on small, a short real training run with a checkpoint and
# an evaluation, the NCCL all-reduce check, then the same bench and peer on base. A step's failure
# is recorded and the next step still runs; the exit status is 1 when any step failed.
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
dry=0
out="${OUT:-}"
budget=""
usage="usage: bench/gpu/run.sh [--dry-run] [--out DIR] [--budget-s SECONDS]"
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1; shift ;;
    --out) out="$2"; shift 2 ;;
    --budget-s) budget="$2"; shift 2 ;;
    -h|--help) echo "$usage"; exit 0 ;;
    *) echo "error: unknown argument '$1' ($usage)" >&2; exit 2 ;;
  esac
done
# The device's budget leaves room for the machine start inside 15 minutes; a dry run on a shared
# 2-core CPU is slower than the GPU and has no such limit.
[ -n "$budget" ] || budget=$([ "$dry" = 1 ] && echo 1800 || echo 450)
[[ "$budget" =~ ^[0-9]+$ ]] && [ "$budget" -ge 60 ] || { echo "error: --budget-s must be a whole number of seconds >= 60 (got '$budget')" >&2; exit 2; }
[ -n "$out" ] || { echo "error: no output folder: set OUT or pass --out DIR" >&2; exit 2; }
carry="$repo/bench/gpu/carry"
for f in dotnet.tar.xz app.tar.xz; do
  [ -f "$carry/$f" ] || { echo "error: $carry/$f is missing: run bench/gpu/pack-carry.sh here and carry bench/gpu/carry" >&2; exit 2; }
done
mkdir -p "$out/logs" "$out/steps"
work=$(mktemp -d /tmp/generalist-gpu-XXXXXX)
started=$(date +%s)
index=0  # steps are reported in the order they ran

if [ "$dry" = 1 ]; then
  # Here: Debian's python3-torch (1.13, CPU) for the peer; our app on the libtorch package it was built with.
  PY="${PYTHON:-/usr/bin/python3}"; device=cpu; small=ladder-0; base=ladder-1; repeats=1; compile=""; train_steps=4; nice="nice -n 15"
else
  PY="${PYTHON:-python3}"; device=cuda; small=small; base=base; repeats=5; compile="--compile"; train_steps=60; nice=""
fi
echo "{\"dry_run\": $([ $dry = 1 ] && echo true || echo false), \"device\": \"$device\", \"small\": \"$small\", \"base\": \"$base\", \"repeats\": $repeats, \"budget_s\": $budget, \"commit\": \"$(cat "$carry/commit.txt" 2>/dev/null || git -C "$repo" rev-parse HEAD 2>/dev/null)\"}" > "$out/run.json"

# step NAME LIMIT_S COMMAND...: stdout -> logs/NAME.out, stderr -> logs/NAME.err, and
# steps/NAME.json = {name, status: ok|failed|timeout|skipped, rc, seconds, note}.
step() {
  local name="$1" limit="$2"; shift 2
  index=$((index + 1))
  local left=$((budget - ($(date +%s) - started)))
  if [ "$left" -lt 15 ]; then
    skip "$name" "the ${budget} s budget was spent before this step"; return 1
  fi
  [ "$limit" -gt "$left" ] && limit="$left"
  echo "== $name (limit ${limit} s)" >&2
  local t0 rc status
  t0=$(date +%s.%N)
  timeout --kill-after=10 "$limit" "$@" > "$out/logs/$name.out" 2> "$out/logs/$name.err"
  rc=$?
  status=ok; [ $rc -ne 0 ] && status=failed; [ $rc -eq 124 ] || [ $rc -eq 137 ] && status=timeout
  printf '{"index": %d, "name": "%s", "status": "%s", "rc": %d, "seconds": %s, "limit_s": %d}\n' "$index" "$name" "$status" "$rc" \
    "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" "$limit" > "$out/steps/$name.json"
  [ "$status" = ok ] || tail -5 "$out/logs/$name.err" >&2
  [ "$status" = ok ]
}
skip() {
  index=$((index + 1))
  printf '{"index": %d, "name": "%s", "status": "skipped", "note": "%s"}\n' "$index" "$1" "$2" > "$out/steps/$1.json"
  echo "== $1 skipped: $2" >&2
}

step facts 30 bash -c "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo 'no nvidia-smi';
  $PY -c 'import torch,json,os; print(json.dumps({\"torch\": torch.__version__, \"cuda\": torch.version.cuda, \"gpus\": torch.cuda.device_count(),
  \"gpu\": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, \"lib\": os.path.dirname(torch.__file__) + \"/lib\"}))'"

# tar needs the xz program for .tar.xz; Python's tarfile (lzma built in) unpacks them where it is missing.
untar() { tar -xJf "$1" -C "$2" 2>/dev/null || $PY -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; }
export -f untar; export PY
step unpack 60 bash -c "mkdir -p '$work/dotnet' && untar '$carry/dotnet.tar.xz' '$work/dotnet' && untar '$carry/app.tar.xz' '$work'"
export DOTNET_ROOT="$work/dotnet" DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 NO_COLOR=1
export GENERALIST_DATA="$work/data" GENERALIST_CACHE="$work/cache"
G="$nice $work/dotnet/dotnet $work/app/generalist.dll"

if [ "$dry" = 0 ]; then
  # The device's PyTorch libtorch (2.11) in place of the 2.10 that LibTorchSharp 0.107 was built for.
  export GENERALIST_LIBTORCH="$($PY -c 'import torch,os; print(os.path.dirname(torch.__file__) + "/lib")')"
fi
dotnet_ok=0
step doctor 60 $G doctor --json && dotnet_ok=1
if [ $dotnet_ok = 0 ] && [ "$dry" = 0 ] && [ -d "$repo/bench/gpu/torchsharp-src" ]; then
  # LibTorchSharp did not load against this libtorch: rebuild its native part from TorchSharp 0.107's
  # own sources against it (carried, git-ignored), put it beside the app, and ask doctor again.
  step rebuild-libtorchsharp 240 bash "$repo/bench/gpu/rebuild-libtorchsharp.sh" "$repo/bench/gpu/torchsharp-src" "$work/app" \
    && step doctor-rebuilt 60 $G doctor --json && dotnet_ok=1
fi

bench_pair() { # PRESET: our bench, then the peer on the same config and batch shape
  local preset="$1"
  local peer=($nice $PY "$repo/bench/peer/speed.py" --generalist "$G" --preset "$preset" --device $device --repeats $repeats $compile --json)
  if [ $dotnet_ok = 1 ] && step "bench-$preset" 150 $G bench --train --preset "$preset" --device $device --repeats $repeats --json; then
    step "peer-$preset" 240 "${peer[@]}" --ours-json "$out/logs/bench-$preset.out"
  else
    # Without our figures the peer still times itself (no ratios then).
    [ $dotnet_ok = 1 ] || skip "bench-$preset" "generalist doctor failed: the app did not load libtorch"
    step "peer-$preset" 240 "${peer[@]}" --peer-only
  fi
}
bench_pair "$small"

if [ $dotnet_ok = 1 ]; then
  cat > "$work/train.json" <<JSON
{"name": "gpu-check", "preset": "$small", "tasks": [{"name": "cartpole"}, {"name": "catch"}], "steps": $train_steps, "batch_size": 8,
 "device": "$device", "precision": "bf16", "episodes_per_task": 16, "min_timesteps_per_task": 0,
 "checkpoint": {"every": 0, "keep_last": 1}, "held_out": {"every": 0, "batches": 1}}
JSON
  if step train 150 $G train --config "$work/train.json" --out "$work/run" --json; then
    step eval 90 $G eval --checkpoint "$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_checkpoint"])' "$out/logs/train.out")" \
         --suite control --episodes 2 --json
  else
    skip eval "the training run failed: no checkpoint to evaluate"
  fi
else
  skip train "generalist doctor failed"; skip eval "generalist doctor failed"
fi

step nccl 90 $nice $PY "$repo/bench/gpu/nccl_check.py" $([ "$dry" = 1 ] && echo "--dry-run --mb 8")
bench_pair "$base"

$PY "$repo/bench/gpu/report.py" --out "$out"
report_rc=$?
rm -rf "$work"
echo "results: $out/gpu-results.json, $out/gpu-results.md ($(( $(date +%s) - started )) s)" >&2
exit $report_rc
