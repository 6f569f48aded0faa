#!/usr/bin/python3
"""Training-step speed of our trainer and of the PyTorch peer, same config and batch shape, one run.

    /usr/bin/python3 bench/peer/speed.py --generalist "dotnet PATH/generalist.dll" --preset small --repeats 5

Ours: `generalist bench --train --preset P --device D --repeats R --json` (forward, backward, clip,
fused AdamW in fp32 and bf16 autocast on random text-token batches), or a saved copy of that JSON
(--ours-json). The peer then builds the same shape (`generalist models --preset P --json`) and
times the same work: a batch of the same size and context of uniformly random text tokens with
every next-token target in the loss, forward, masked loss, backward, global-norm clip and AdamW
(PyTorch's fastest stock AdamW there: fused on CUDA, foreach on CPU) with the same decay groups,
on as many CPU threads as ours used. Tokens/s are medians over the repeats after warm-up steps.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loss import masked_loss  # noqa: E402
from model import Generalist  # noqa: E402


def generalist(command, *args):
    """Runs our CLI and returns its --json output."""
    argv = shlex.split(command) + list(args) + ["--json"]
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def random_batch(batch_size, context, text_vocab, device, generator):
    """The work of RandomTokenBatches.cs: random text tokens, targets the next token, the last masked."""
    tokens = torch.randint(0, text_vocab, (batch_size, context), generator=generator)
    targets = torch.cat([tokens[:, 1:], torch.zeros(batch_size, 1, dtype=torch.long)], dim=1)
    mask = torch.ones(batch_size, context)
    mask[:, -1] = 0
    local = (torch.arange(context) % 64).expand(batch_size, context)
    empty = torch.zeros(0, dtype=torch.long)
    batch = {"tokens": tokens, "targets": targets, "loss_mask": mask, "local_positions": local, "task_ids": torch.zeros_like(tokens),
             "patch_positions": empty, "patch_rows": empty, "patch_cols": empty, "patches": torch.zeros(0, 1)}
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


def make_optimizer(model, device):
    decay = [p for p in model.parameters() if p.dim() == 2]
    other = [p for p in model.parameters() if p.dim() != 2]
    groups = [{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}]
    kwargs = {"lr": 1e-4, "betas": (0.9, 0.95), "eps": 1e-8}
    if device.type == "cuda":
        try:
            return torch.optim.AdamW(groups, fused=True, **kwargs), "fused"
        except (TypeError, RuntimeError):
            pass
    return torch.optim.AdamW(groups, foreach=True, **kwargs), "foreach"


def peer_steps(config, precision, device, batch_size, context, repeats, warmup, compile_model):
    torch.manual_seed(1)
    model = Generalist(config).to(device)
    for p in model.parameters():  # GPT-2 scale init; the speed does not depend on it, the loss does
        if p.dim() >= 2:
            torch.nn.init.normal_(p, 0.0, 0.02)
    model.train()
    optimizer, kind = make_optimizer(model, device)
    forward = torch.compile(model) if compile_model else model
    generator = torch.Generator().manual_seed(1)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    rates, losses, seconds = [], [], []
    for i in range(warmup + repeats):
        start = time.perf_counter()
        batch = random_batch(batch_size, context, config["continuous_offset"], device, generator)
        with autocast:
            logits = forward(batch)
        loss, _, _ = masked_loss(logits, batch, 1, config)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        value = float(loss)  # the host read that ends the step, as ours
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i >= warmup:
            seconds.append(time.perf_counter() - start)
            rates.append(batch_size * context / seconds[-1])
            losses.append(value)
    # Every step's time too: on a shared machine an outlier shows where another job took the CPU.
    return {"tokens_per_second": statistics.median(rates), "optimizer": kind, "last_loss": losses[-1], "step_seconds": seconds}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--generalist", default="generalist", help="how to run our CLI (e.g. 'dotnet PATH/generalist.dll')")
    p.add_argument("--preset", default="small")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32, bf16")
    p.add_argument("--compile", action="store_true", help="also time the peer under torch.compile (PyTorch 2)")
    p.add_argument("--ours-json", help="a saved `generalist bench --train --json` result instead of running it")
    p.add_argument("--peer-only", action="store_true",
                   help="time the peer alone (when our app cannot run here): batch --batch-size x the preset's context, no ratios")
    p.add_argument("--batch-size", type=int, default=4, help="with --peer-only: sequences per step (ours benches 4)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    precisions = [s.strip() for s in args.precisions.split(",") if s.strip()]
    if not precisions or any(s not in ("fp32", "bf16") for s in precisions):
        print(f"error: --precisions must list fp32 and/or bf16 (got {args.precisions!r})", file=sys.stderr)
        return 2
    if args.repeats < 1 or args.warmup < 0 or args.batch_size < 1:
        print("error: --repeats and --batch-size must be at least 1 and --warmup at least 0", file=sys.stderr)
        return 2
    if args.compile and not hasattr(torch, "compile"):
        print(f"error: --compile needs PyTorch 2 (this is {torch.__version__})", file=sys.stderr)
        return 2
    try:
        shape = generalist(args.generalist, "models", "--preset", args.preset)[0]
        if args.peer_only:
            ours = {"threads": torch.get_num_threads(), "batch_size": args.batch_size, "context_length": shape["context_length"]}
        elif args.ours_json:
            with open(args.ours_json) as f:
                ours = json.load(f)
        else:
            ours = generalist(args.generalist, "bench", "--train", "--preset", args.preset, "--device", args.device, "--repeats", str(args.repeats))
    except (RuntimeError, OSError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    ours = ours.get("train", ours)
    torch.set_num_threads(ours["threads"])
    device = torch.device(args.device)
    report = {"preset": args.preset, "device": args.device, "batch_size": ours["batch_size"], "context_length": ours["context_length"],
              "threads": ours["threads"], "torch": torch.__version__, "flops_per_token": shape["flops_per_token"], "precisions": {}}
    variants = [("eager", False)] + ([("compiled", True)] if args.compile else [])
    for precision in precisions:
        figures = ours.get(precision)
        row = {} if figures is None else {"ours_tokens_per_second": figures["tokens_per_second"], "ours_mfu": figures["mfu"], "peak_flops": figures["peak_flops"]}
        for name, compiled in variants:
            peer = peer_steps(shape["config"], precision, device, ours["batch_size"], ours["context_length"], args.repeats,
                              args.warmup + (2 if compiled else 0), compiled)
            row[f"peer_{name}_tokens_per_second"] = peer["tokens_per_second"]
            row[f"peer_{name}_optimizer"] = peer["optimizer"]
            row[f"peer_{name}_step_seconds"] = peer["step_seconds"]
            if figures is not None:  # MFU against the peak our bench measured in the same run and dtype
                row[f"peer_{name}_mfu"] = peer["tokens_per_second"] * shape["flops_per_token"] / figures["peak_flops"]
                row[f"ours_over_peer_{name}"] = figures["tokens_per_second"] / peer["tokens_per_second"]
        report["precisions"][precision] = row
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"{args.preset} on {args.device}, batch {report['batch_size']} x {report['context_length']}, {report['threads']} threads, torch {torch.__version__}")
        for precision, row in report["precisions"].items():
            parts = [f"ours {row['ours_tokens_per_second']:.0f} tok/s"] if "ours_tokens_per_second" in row else []
            for name, _ in variants:
                ratio = f" (ours/peer {row[f'ours_over_peer_{name}']:.2f})" if f"ours_over_peer_{name}" in row else ""
                parts.append(f"peer {name} {row[f'peer_{name}_tokens_per_second']:.0f} tok/s{ratio}")
            print(f"{precision}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
