#!/usr/bin/env python3
"""All-reduce check through torch.distributed: NCCL over every visible GPU (gloo on CPU for --dry-run).

One process per rank on this machine (a world of one on a single GPU still initialises NCCL and
runs the collective). Each rank fills a tensor with rank + 1; after a sum all-reduce every element
must equal W(W + 1)/2. Then the median time of an all-reduce of --mb megabytes of fp32 gives the
bus bandwidth as nccl-tests defines it: bytes * 2(W - 1)/W / time. Prints one JSON object.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def nccl_version():
    v = torch.cuda.nccl.version()  # a tuple in recent PyTorch, one packed int in older ones
    return ".".join(map(str, v)) if isinstance(v, tuple) else str(v)


def rank_main(rank, world, backend, init_file, mb, repeats, results):
    dist.init_process_group(backend, init_method=f"file://{init_file}", rank=rank, world_size=world)
    device = torch.device("cuda", rank) if backend == "nccl" else torch.device("cpu")
    if backend == "nccl":
        torch.cuda.set_device(device)
    x = torch.full((1024,), float(rank + 1), device=device)
    dist.all_reduce(x)
    expected = world * (world + 1) / 2
    correct = bool(torch.all(x == expected).item())
    big = torch.ones(int(mb * 2**20 // 4), device=device)
    times = []
    for _ in range(repeats + 1):
        if backend == "nccl":
            torch.cuda.synchronize()
        start = time.perf_counter()
        dist.all_reduce(big)
        if backend == "nccl":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times[1:])  # the first call sets up the communicator's buffers
    if rank == 0:
        nbytes = big.numel() * 4
        bus = nbytes * (2 * (world - 1) / world) / seconds if world > 1 else 0.0
        results.put({"backend": backend, "world_size": world, "correct": correct, "megabytes": mb,
                     "seconds": seconds, "algorithm_gb_per_s": nbytes / seconds / 1e9, "bus_gb_per_s": bus / 1e9,
                     "nccl_version": nccl_version() if backend == "nccl" else None})
    else:
        results.put({"rank": rank, "correct": correct})
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dry-run", action="store_true", help="gloo over 2 CPU processes instead of NCCL over the GPUs")
    p.add_argument("--mb", type=float, default=256)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    if args.dry_run:
        backend, world = "gloo", 2
    else:
        if not torch.cuda.is_available() or not dist.is_nccl_available():
            print(json.dumps({"error": f"NCCL needs CUDA and a torch built with NCCL (cuda {torch.cuda.is_available()}, nccl {dist.is_nccl_available()})"}))
            return 1
        backend, world = "nccl", torch.cuda.device_count()
    init_file = os.path.join(tempfile.mkdtemp(prefix="nccl-check-"), "init")
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=rank_main, args=(r, world, backend, init_file, args.mb, args.repeats, results)) for r in range(world)]
    for proc in procs:
        proc.start()
    gathered = [results.get(timeout=300) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    summary = next(g for g in gathered if "backend" in g)
    summary["correct"] = all(g["correct"] for g in gathered) and all(proc.exitcode == 0 for proc in procs)
    print(json.dumps(summary))
    return 0 if summary["correct"] else 1


if __name__ == "__main__":
    sys.exit(main())
