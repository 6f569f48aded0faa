#!/usr/bin/python3
"""A Generalist client in Python: create a training run, stream its steps, evaluate its checkpoint.

Uses Debian's python3-grpcio and python3-grpc-tools (apt-get install python3-grpcio
python3-grpc-tools). The stubs are generated from the service's shipped protos
(src/Generalist.Service/Protos) with grpc_tools.protoc on each start, into a temporary directory,
so they always match the protos of this checkout.

    /usr/bin/python3 examples/python/generalist_client.py --name py-first --preset tiny --tasks cartpole --steps 200

The last line of stdout is a JSON summary (run, state, final loss, evaluation scores) for scripts.
"""
import argparse
import glob
import importlib
import json
import os
import re
import sys
import tempfile

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOS = os.path.join(HERE, "..", "..", "src", "Generalist.Service", "Protos")


# proto3 `optional` is a one-field oneof named `_FIELD` (that is how protoc itself represents it),
# which Debian 12's grpc_tools compiler (libprotoc 3.5) predates; written as that oneof the
# messages are the same on the wire and HasField() works.
OPTIONAL_FIELD = re.compile(r"^(\s*)optional\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*;", re.MULTILINE)


def generate_stubs(out_dir):
    """Compiles generalist/v1/*.proto to Python modules under out_dir and makes them importable."""
    files = sorted(glob.glob(os.path.join(PROTOS, "generalist", "v1", "*.proto")))
    if not files:
        sys.exit(f"error: no protos under {PROTOS}")
    sources = os.path.join(out_dir, "protos")
    os.makedirs(os.path.join(sources, "generalist", "v1"))
    for f in files:
        with open(f, encoding="utf-8") as src, open(os.path.join(sources, os.path.relpath(f, PROTOS)), "w", encoding="utf-8") as dst:
            dst.write(OPTIONAL_FIELD.sub(r"\1oneof _\3 { \2 \3 = \4; }", src.read()))
    # grpc_tools ships the well-known types (google/protobuf/timestamp.proto) beside its compiler.
    well_known = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    args = ["grpc_tools.protoc", f"-I{sources}", f"-I{well_known}", f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    if protoc.main(args + [os.path.relpath(f, PROTOS) for f in files]) != 0:
        sys.exit("error: grpc_tools.protoc could not compile the protos")
    sys.path.insert(0, out_dir)
    return {name: importlib.import_module(f"generalist.v1.{name}") for name in
            ("common_pb2", "runs_pb2", "runs_pb2_grpc", "evaluations_pb2", "evaluations_pb2_grpc")}


def state_name(pb, state):
    return pb["common_pb2"].JobState.Name(state).removeprefix("JOB_STATE_").lower()


def watch_run(pb, runs, name, metadata):
    """Streams the run's events until it rests; prints one line per step. Returns (state, last step)."""
    state, last = None, None
    for event in runs.WatchRun(pb["runs_pb2"].WatchRunRequest(name=name), metadata=metadata):
        kind = event.WhichOneof("event")
        if kind == "snapshot":
            state = event.snapshot.state
        elif kind == "step":
            s = last = event.step
            tasks = " ".join(f"{t}={v:.4f}" for t, v in sorted(s.task_loss.items()))
            print(f"step {s.step}/{s.total_steps} loss {s.loss:.4f} {tasks} lr {s.learning_rate:.2e} {s.tokens_per_second:.0f} tok/s", flush=True)
        elif kind == "held_out":
            tasks = " ".join(f"{t}={v:.4f}" for t, v in sorted(event.held_out.task_loss.items()))
            print(f"held-out at step {event.held_out.step}: {tasks}", flush=True)
        elif kind == "checkpoint":
            print(f"checkpoint {event.checkpoint.path}", flush=True)
        elif kind == "state":
            state = event.state.state
            print(f"state {state_name(pb, state)} ({event.state.reason})", flush=True)
    return state, last


def evaluate(pb, channel, run, suite, episodes, metadata):
    """Evaluates the run's newest checkpoint and waits for the result."""
    evaluations = pb["evaluations_pb2_grpc"].EvaluationsStub(channel)
    created = evaluations.CreateEvaluation(pb["evaluations_pb2"].CreateEvaluationRequest(run=run, suite=suite, episodes=episodes), metadata=metadata)
    print(f"evaluation {created.name} of {created.checkpoint} on suite {created.suite}", flush=True)
    for event in evaluations.WatchEvaluation(pb["evaluations_pb2"].WatchEvaluationRequest(name=created.name), metadata=metadata):
        if event.WhichOneof("event") == "progress":
            p = event.progress
            print(f"  {p.task}: {p.done}/{p.total}", flush=True)
    return evaluations.GetEvaluation(pb["evaluations_pb2"].GetEvaluationRequest(name=created.name), metadata=metadata)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("GENERALIST_SERVER", "127.0.0.1:50051"), help="host:port of the gRPC API (http:// is accepted)")
    parser.add_argument("--api-key", default=os.environ.get("GENERALIST_API_KEY"), help="sent as 'authorization: Bearer KEY' (default: GENERALIST_API_KEY)")
    parser.add_argument("--config", help="a run config JSON file (generalist config show); the flags below override it")
    parser.add_argument("--name", required=True)
    parser.add_argument("--preset", default="")
    parser.add_argument("--tasks", default="", help="NAME[:WEIGHT],...")
    parser.add_argument("--steps", type=int, default=0)
    parser.add_argument("--suite", default="default", help="evaluation suite")
    parser.add_argument("--episodes", type=int, default=0, help="control episodes per task (0 = the service's default)")
    args = parser.parse_args()

    metadata = [("authorization", f"Bearer {args.api_key}")] if args.api_key else None
    target = args.server.removeprefix("http://").rstrip("/")
    with tempfile.TemporaryDirectory(prefix="generalist-stubs-") as stubs:
        pb = generate_stubs(stubs)
        with grpc.insecure_channel(target) as channel:
            runs = pb["runs_pb2_grpc"].RunsStub(channel)
            config = open(args.config, encoding="utf-8").read() if args.config else ""
            request = pb["runs_pb2"].CreateRunRequest(config_json=config, name=args.name, preset=args.preset,
                                                      tasks=[t for t in args.tasks.split(",") if t], steps=args.steps)
            try:
                run = runs.CreateRun(request, metadata=metadata)
                print(f"run {run.name} {state_name(pb, run.state)}", flush=True)
                state, last = watch_run(pb, runs, run.name, metadata)
                summary = {"run": run.name, "state": state_name(pb, state), "loss": last.loss if last else None, "evaluation": None}
                if state == pb["common_pb2"].JobState.Value("JOB_STATE_SUCCEEDED"):
                    result = evaluate(pb, channel, run.name, args.suite, args.episodes, metadata)
                    scores = {t.task: (t.normalized_score if t.HasField("normalized_score") else None) for t in result.result.tasks}
                    for task, score in scores.items():
                        print(f"{task}: normalized score {score if score is not None else '-'}", flush=True)
                    summary["evaluation"] = {"name": result.name, "state": state_name(pb, result.state), "checkpoint": result.checkpoint, "scores": scores}
            except grpc.RpcError as e:
                sys.exit(f"error: {e.code().name}: {e.details()}")
    print(json.dumps(summary))
    return 0 if summary["state"] == "succeeded" and (summary["evaluation"] or {}).get("state") == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
