#!/usr/bin/env python3
"""Collects bench/gpu/run.sh's step records and outputs into $OUT/gpu-results.json and .md.

Exit 1 when a step failed or timed out (skips are not failures: each says why it was skipped).
"""
import argparse
import glob
import json
import os
import sys

def parsed(out, name):
    """The step's stdout as JSON (our --json commands and the Python checks print one object), else None."""
    path = os.path.join(out, "logs", f"{name}.out")
    if not os.path.exists(path):
        return None
    text = open(path).read().strip()
    try:
        return json.loads(text)
    except ValueError:
        lines = [l for l in text.splitlines() if l.strip()]
        try:
            return json.loads(lines[-1]) if lines else None
        except ValueError:
            return None


def tail(out, name, lines=3):
    path = os.path.join(out, "logs", f"{name}.err")
    if not os.path.exists(path):
        return ""
    return " | ".join(l.strip() for l in open(path).read().strip().splitlines()[-lines:])


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    out = p.parse_args().out
    run = json.load(open(os.path.join(out, "run.json")))
    steps = [json.load(open(f)) for f in glob.glob(os.path.join(out, "steps", "*.json"))]
    steps.sort(key=lambda s: s["index"])
    for s in steps:
        if s["status"] in ("failed", "timeout"):
            s["error"] = tail(out, s["name"])
    results = {"run": run, "steps": steps, "outputs": {s["name"]: parsed(out, s["name"]) for s in steps if s["status"] != "skipped"}}
    facts = os.path.join(out, "logs", "facts.out")
    results["facts"] = open(facts).read().strip() if os.path.exists(facts) else None
    with open(os.path.join(out, "gpu-results.json"), "w") as f:
        json.dump(results, f, indent=2)

    md = [f"# GPU check ({'dry run on CPU' if run['dry_run'] else run['device']}, commit {run['commit'][:12]})", "",
          "| step | status | seconds | note |", "|---|---|---|---|"]
    for s in steps:
        note = s.get("note") or s.get("error") or ""
        md.append(f"| {s['name']} | {s['status']} | {fmt(s.get('seconds'), '.1f')} | {note.replace('|', '/')[:300]} |")
    md += ["", "| preset | precision | ours tok/s | ours MFU | peak TFLOP/s | fwd / bwd / opt s | peer eager tok/s | ours / eager | peer compiled tok/s | ours / compiled |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    outputs = results["outputs"]
    for preset in (run["small"], run["base"]):
        bench = (outputs.get(f"bench-{preset}") or {}).get("train")
        peer = outputs.get(f"peer-{preset}") or {}
        for precision in ("fp32", "bf16"):
            ours = (bench or {}).get(precision) or {}
            row = (peer.get("precisions") or {}).get(precision) or {}
            split = " / ".join(fmt(ours.get(k), ".4f") for k in ("forward_seconds", "backward_seconds", "optimizer_seconds")) if ours else "-"
            md.append(f"| {preset} | {precision} | {fmt(ours.get('tokens_per_second'), '.0f')} | {fmt(ours.get('mfu'), '.1%')} | "
                      f"{fmt(ours.get('peak_flops') and ours['peak_flops'] / 1e12, '.3g')} | {split} | "
                      f"{fmt(row.get('peer_eager_tokens_per_second'), '.0f')} | {fmt(row.get('ours_over_peer_eager'), '.2f')} | "
                      f"{fmt(row.get('peer_compiled_tokens_per_second'), '.0f')} | {fmt(row.get('ours_over_peer_compiled'), '.2f')} |")
    train, evaluation, nccl = outputs.get("train"), outputs.get("eval"), outputs.get("nccl")
    md.append("")
    if train:
        md.append(f"- train: {train.get('outcome')} at step {train.get('final_step')}, checkpoint {train.get('last_checkpoint')}")
    if evaluation:
        scores = {t.get("task"): (t.get("metrics") or {}).get("normalized_score") for t in evaluation.get("tasks", [])}
        md.append(f"- eval ({evaluation.get('suite')}): normalized scores " + ", ".join(f"{k} {fmt(v, '.1f')}" for k, v in scores.items()))
    if nccl:
        md.append(f"- all-reduce ({nccl.get('backend')}, world {nccl.get('world_size')}): correct {nccl.get('correct')}, "
                  f"{fmt(nccl.get('algorithm_gb_per_s'), '.1f')} GB/s algorithm bandwidth on {nccl.get('megabytes')} MB")
    doctor = outputs.get("doctor-rebuilt") or outputs.get("doctor")
    if doctor:
        md.append(f"- doctor: libtorch {doctor.get('lib_torch_version')} from {doctor.get('source')}, CUDA {doctor.get('cuda_available')}")
    with open(os.path.join(out, "gpu-results.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    return 1 if any(s["status"] in ("failed", "timeout") for s in steps) else 0


if __name__ == "__main__":
    sys.exit(main())
