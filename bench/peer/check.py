#!/usr/bin/python3
"""Reproduces `generalist export-batch` figures with the independent PyTorch peer, in fp32.

    /usr/bin/python3 bench/peer/check.py --checkpoint RUN/checkpoints/step-N --batch batch.safetensors [--json]

The model shape comes from the batch file's model_config (the shape our trainer resolved from
trainer_state.json's preset); everything else the peer needs (model options, HL-Gauss width,
optimizer and schedule, applied-update count) is read from trainer_state.json itself, and the
weights and moments from model.safetensors / optimizer.safetensors by parameter name.
Exit 0 when every figure agrees within its tolerance, 1 when one does not, 2 on bad input.
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
from loss import masked_loss  # noqa: E402
from model import Generalist  # noqa: E402
from optim import AdamW  # noqa: E402

INPUTS = ["tokens", "local_positions", "patch_positions", "patches", "patch_rows", "patch_cols", "targets", "loss_mask", "task_ids"]


def learning_rate(opt, total_steps, step):
    """The trainer's schedule (LearningRateSchedule.cs): linear warmup, cosine to min_lr_ratio."""
    peak, warmup = opt["learning_rate"], opt["warmup_steps"]
    low = peak * opt["min_lr_ratio"]
    if warmup > 0 and step <= warmup:
        return peak * step / warmup
    if step >= total_steps:
        return low
    progress = (step - warmup) / max(1, total_steps - warmup)
    return low + 0.5 * (peak - low) * (1 + math.cos(math.pi * progress))


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-12)


def check_options(config, model_config):
    """The run's model options must be what the exported shape says (else the export is not of this run)."""
    options = config.get("model", {})
    for key in ("value_embedding", "attention_positions", "value_head"):
        if key in options and options[key] != model_config[key]:
            raise ValueError(f"trainer_state.json says model.{key} = {options[key]!r} but the batch's model_config says {model_config[key]!r}")


def run(args):
    batch_file, meta = safetensors_io.read(args.batch)
    if meta.get("format") != "generalist-peer-batch/1":
        raise ValueError(f"{args.batch}: not a `generalist export-batch` file (format {meta.get('format')!r})")
    with open(os.path.join(args.checkpoint, "trainer_state.json")) as f:
        state = json.load(f)
    config, model_config = state["config"], json.loads(meta["model_config"])
    check_options(config, model_config)
    task_names = json.loads(meta["task_names"])
    steps = int(meta["steps"])

    model = Generalist(model_config)
    weights, _ = safetensors_io.read(os.path.join(args.checkpoint, "model.safetensors"))
    model.load_state_dict(weights, strict=True)  # every key by name, every shape
    model.train()
    opt = config["optimizer"]
    optimizer = AdamW(model.named_parameters(), beta1=opt["beta1"], beta2=opt["beta2"], weight_decay=opt["weight_decay"],
                      decay_token_embedding=opt.get("decay_token_embedding", True))
    moments, _ = safetensors_io.read(os.path.join(args.checkpoint, "optimizer.safetensors"))
    optimizer.load_state(moments, state["optimizer_steps"])
    batch = {k: batch_file[k] for k in INPUTS}
    sigma = config.get("model", {}).get("continuous_label_sigma", 0.0)

    losses, norms, rates, first = [], [], [], None
    for i in range(steps):
        loss, sums, counts = masked_loss(model(batch), batch, len(task_names), model_config, sigma)
        loss.backward()
        norm = optimizer.clip(opt["grad_clip"])
        lr = learning_rate(opt, config["steps"], state["optimizer_steps"] + 1 + i)
        optimizer.step(lr)
        optimizer.zero_grad()
        if first is None:
            first = (sums, counts, float(norm))
        losses.append(float(loss))
        norms.append(float(norm))
        rates.append(lr)
    with torch.no_grad():
        loss, sums, counts = masked_loss(model(batch), batch, len(task_names), model_config, sigma)
    losses.append(float(loss))
    if first is None:
        raise ValueError("the batch was exported with --steps 0; the gradient-norm check needs at least one step")
    sums, counts, norm0 = first

    ours = batch_file
    task_loss = {n: (float(sums[i] / counts[i]) if counts[i] > 0 else None) for i, n in enumerate(task_names)}
    # A task without loss tokens in this batch is NaN in our file and None here (JSON has no NaN).
    ours_task = {n: (None if math.isnan(v) else v) for n, v in zip(task_names, ours["reference.task_loss"].tolist())}
    task_rel = {n: relative(task_loss[n], ours_task[n]) for n in task_names if task_loss[n] is not None and ours_task[n] is not None}
    ours_losses = ours["reference.losses"].tolist()
    report = {
        "batch": list(batch["tokens"].shape), "patches": int(batch["patch_positions"].numel()), "steps": steps,
        "torch": torch.__version__, "sdpa": hasattr(torch.nn.functional, "scaled_dot_product_attention"), "threads": torch.get_num_threads(),
        "loss": {"ours": ours_losses[0], "peer": losses[0], "relative": relative(losses[0], ours_losses[0]), "tolerance": args.loss_tol},
        "task_loss": {"ours": ours_task, "peer": task_loss, "max_relative": max(task_rel.values(), default=0.0), "tolerance": args.loss_tol},
        "grad_norm": {"ours": float(ours["reference.grad_norms"][0]), "peer": norm0,
                      "relative": relative(norm0, float(ours["reference.grad_norms"][0])), "tolerance": args.grad_tol},
        "losses_after_steps": {"ours": ours_losses, "peer": losses,
                               "max_relative": max(relative(p, o) for p, o in zip(losses, ours_losses)), "tolerance": args.steps_tol},
        "learning_rates_max_relative": max((relative(p, o) for p, o in zip(rates, ours["reference.learning_rates"].tolist())), default=0.0),
    }
    report["passed"] = (report["loss"]["relative"] <= args.loss_tol and report["task_loss"]["max_relative"] <= args.loss_tol
                        and report["grad_norm"]["relative"] <= args.grad_tol and report["losses_after_steps"]["max_relative"] <= args.steps_tol
                        and report["learning_rates_max_relative"] <= 1e-12
                        and {n for n, v in task_loss.items() if v is not None} == {n for n, v in ours_task.items() if v is not None})
    return report


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--checkpoint", required=True, help="the step-N directory the batch was exported from")
    p.add_argument("--batch", required=True, help="the `generalist export-batch` file")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: reproducible reductions)")
    p.add_argument("--loss-tol", type=float, default=1e-5, help="relative tolerance of the loss and per-task losses")
    p.add_argument("--grad-tol", type=float, default=1e-4, help="relative tolerance of the gradient norm")
    p.add_argument("--steps-tol", type=float, default=1e-4, help="relative tolerance of the losses along the AdamW steps")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        report = run(args)
    except KeyError as e:
        print(f"error: missing field or tensor {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(f"loss ours {report['loss']['ours']:.7f} peer {report['loss']['peer']:.7f} rel {report['loss']['relative']:.2e}")
        print(f"per-task max rel {report['task_loss']['max_relative']:.2e}; grad norm rel {report['grad_norm']['relative']:.2e}")
        print(f"losses over {report['steps']} AdamW steps max rel {report['losses_after_steps']['max_relative']:.2e}")
        print("PASSED" if report["passed"] else "FAILED")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
