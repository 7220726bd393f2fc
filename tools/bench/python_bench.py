"""Python-level benchmark: Polymix against NumPy, Apache MXNet 1.9.1 and (when installed) PyTorch, in one run.

Each workload is defined once below and run under whichever `mx` the process imported: this process imports
polymix, then runs this same file as a subprocess in MXNet's virtualenv (`--worker mxnet`, importing mxnet), and
in the optional PyTorch virtualenv (tools/setup_bench) when it has torch (`--worker torch`). The summary prints ratios of figures
measured in the same run (STYLE.md, principle 9):

  1. dispatch: a 1-element `a + b` on NDArrays, microseconds per call, waiting once at the end (async) and
     after every call (sync), against NumPy, MXNet and PyTorch;
  2. mlp: one Gluon training step (forward, backward, trainer.step, waited) of an MLP 784-1024-1024-10, batch 256,
     SGD, float32, imperative and hybridized;
  3. cnn: 50 training batches (batch 128, Adam, hybridized) of the Fashion-MNIST CNN of
     examples/python/train_fashion_mnist.py on random data.

    bazel run --config=opt //bindings/python:python -- tools/bench/python_bench.py [--rounds N] [--quick]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

MXNET_PYTHON = os.path.expanduser("~/.cache/polymix/mxnet-venv/bin/python")
TORCH_PYTHON = os.path.expanduser("~/.cache/polymix/bench-venv/bin/python")
RESULT_TAG = "BENCH_RESULT "


def median_of(repeats, fn):
    """The median of `repeats` calls of fn(), which returns one measurement."""
    return statistics.median(fn() for _ in range(repeats))


# ---------------------------------------------------------------------------------------------------------------
# Workloads under `mx` (polymix or mxnet: the same code for both).


def mx_dispatch(mx, iters, repeats):
    a = mx.nd.array([1.0], dtype="float32")
    b = mx.nd.array([2.0], dtype="float32")
    for _ in range(1000):  # Warm up: op lookup caches, engine threads.
        c = a + b
    c.wait_to_read()

    def run_async():
        start = time.perf_counter()
        for _ in range(iters):
            c = a + b
        c.wait_to_read()
        return (time.perf_counter() - start) / iters * 1e6

    def run_sync():
        start = time.perf_counter()
        for _ in range(iters):
            c = a + b
            c.wait_to_read()
        return (time.perf_counter() - start) / iters * 1e6

    assert float((a + b).asnumpy()[0]) == 3.0
    return {"add_async_us": median_of(repeats, run_async), "add_sync_us": median_of(repeats, run_sync)}


def mx_mlp(mx, steps, repeats, hybridize):
    gluon = mx.gluon
    nn = gluon.nn
    mx.random.seed(0)
    net = nn.HybridSequential()
    with net.name_scope():
        net.add(nn.Dense(1024, activation="relu"), nn.Dense(1024, activation="relu"), nn.Dense(10))
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    if hybridize:
        net.hybridize(static_alloc=True, static_shape=True)
    trainer = gluon.Trainer(net.collect_params(), "sgd", {"learning_rate": 0.01})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(0)
    x = mx.nd.array(rng.rand(256, 784).astype(np.float32))
    y = mx.nd.array(rng.randint(0, 10, size=256).astype(np.float32))

    def step():
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(256)
        mx.nd.waitall()

    for _ in range(3):
        step()

    def run():
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) / steps * 1e3

    return median_of(repeats, run)


def mx_fashion_cnn(mx):
    """The network of examples/python/train_fashion_mnist.py's build_network, under `mx`."""
    nn = mx.gluon.nn
    net = nn.HybridSequential()
    with net.name_scope():
        for channels in (32, 64):
            net.add(nn.Conv2D(channels, kernel_size=3, padding=1, use_bias=False), nn.BatchNorm(),
                    nn.Activation("relu"), nn.MaxPool2D(pool_size=2, strides=2))
        net.add(nn.Flatten(), nn.Dense(128, activation="relu"), nn.Dropout(0.25), nn.Dense(10))
    return net


def mx_cnn(mx, batches, repeats, batch_size=128):
    mx.random.seed(42)
    net = mx_fashion_cnn(mx)
    net.initialize(mx.init.Xavier(), ctx=mx.cpu())
    net.hybridize(static_alloc=True, static_shape=True)
    trainer = mx.gluon.Trainer(net.collect_params(), "adam", {"learning_rate": 0.002})
    loss_fn = mx.gluon.loss.SoftmaxCrossEntropyLoss()
    rng = np.random.RandomState(0)
    data = [(mx.nd.array(rng.randn(batch_size, 1, 28, 28).astype(np.float32)),
             mx.nd.array(rng.randint(0, 10, size=batch_size).astype(np.float32))) for _ in range(4)]

    def step(i):
        x, y = data[i % len(data)]
        with mx.autograd.record():
            loss = loss_fn(net(x), y)
        loss.backward()
        trainer.step(batch_size)

    for i in range(3):
        step(i)
    mx.nd.waitall()

    def run():
        start = time.perf_counter()
        for i in range(batches):
            step(i)
        mx.nd.waitall()
        return time.perf_counter() - start

    return median_of(repeats, run)


def run_mx(mx, args):
    mlp_steps = 5 if args.quick else 20
    result = mx_dispatch(mx, 2000 if args.quick else 20000, 5)
    result["mlp_imperative_ms"] = mx_mlp(mx, mlp_steps, 3, hybridize=False)
    result["mlp_hybrid_ms"] = mx_mlp(mx, mlp_steps, 3, hybridize=True)
    result["cnn_50_batches_s"] = mx_cnn(mx, 10 if args.quick else 50, 1 if args.quick else 3)
    if args.quick:
        result["cnn_50_batches_s"] *= 5
    return result


# ---------------------------------------------------------------------------------------------------------------
# NumPy and PyTorch counterparts (their own APIs; the same shapes and steps).


def numpy_dispatch(iters, repeats):
    a = np.array([1.0], dtype=np.float32)
    b = np.array([2.0], dtype=np.float32)

    def run():
        start = time.perf_counter()
        for _ in range(iters):
            c = a + b
        return (time.perf_counter() - start) / iters * 1e6

    t = median_of(repeats, run)
    return {"add_async_us": t, "add_sync_us": t}  # NumPy is synchronous.


def run_torch(args):
    import torch
    iters = 2000 if args.quick else 20000
    a = torch.tensor([1.0])
    b = torch.tensor([2.0])

    def run_add():
        start = time.perf_counter()
        for _ in range(iters):
            c = a + b
        return (time.perf_counter() - start) / iters * 1e6

    t = median_of(5, run_add)
    result = {"add_async_us": t, "add_sync_us": t, "version": torch.__version__,
              "threads": torch.get_num_threads()}
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                              torch.nn.ReLU(), torch.nn.Linear(1024, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(256, 784)
    y = torch.randint(0, 10, (256,))

    def step():
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    steps = 5 if args.quick else 20

    def run_mlp():
        start = time.perf_counter()
        for _ in range(steps):
            step()
        return (time.perf_counter() - start) / steps * 1e3

    result["mlp_imperative_ms"] = median_of(3, run_mlp)
    batches = 10 if args.quick else 50
    result["cnn_50_batches_s"] = torch_cnn(torch, batches, 1 if args.quick else 3) * (50 / batches)
    return result


def torch_cnn(torch, batches, repeats, batch_size=128):
    """mx_cnn's network and training step in PyTorch's own API (eager; nn.Module defaults otherwise)."""
    nn = torch.nn
    torch.manual_seed(42)
    layers = []
    in_channels = 1
    for channels in (32, 64):
        layers += [nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels), nn.ReLU(),
                   nn.MaxPool2d(2, 2)]
        in_channels = channels
    layers += [nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10)]
    net = nn.Sequential(*layers)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=0.002)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.RandomState(0)
    data = [(torch.from_numpy(rng.randn(batch_size, 1, 28, 28).astype(np.float32)),
             torch.from_numpy(rng.randint(0, 10, size=batch_size).astype(np.int64))) for _ in range(4)]

    def step(i):
        x, y = data[i % len(data)]
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for i in range(3):
        step(i)

    def run():
        start = time.perf_counter()
        for i in range(batches):
            step(i)
        return time.perf_counter() - start

    return median_of(repeats, run)


# ---------------------------------------------------------------------------------------------------------------
# Driver: this process runs polymix and NumPy, and the others as subprocesses of this same file.


def run_worker(python, backend, args):
    """Runs this file under `python` as `--worker backend`; returns its result dict, or an error string."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "RUNFILES", "BAZEL"))}
    cmd = [python, os.path.abspath(__file__), "--worker", backend] + (["--quick"] if args.quick else [])
    proc = subprocess.run(cmd, env=env, cwd="/tmp", capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    return "failed (exit %d): %s" % (proc.returncode, proc.stderr.strip().splitlines()[-1:] or "no output")


def best_of_rounds(rounds):
    """Per backend and figure, the lowest value over the rounds (a backend that failed keeps its message)."""
    best = dict(rounds[0])
    for results in rounds[1:]:
        for backend, figures in results.items():
            if isinstance(figures, dict) and isinstance(best.get(backend), dict):
                best[backend] = {k: (min(v, best[backend][k]) if isinstance(v, float) else v)
                                 for k, v in figures.items()}
    return best


def torch_available():
    if not os.path.exists(TORCH_PYTHON):
        return False
    return subprocess.run([TORCH_PYTHON, "-c", "import torch"], capture_output=True, cwd="/tmp").returncode == 0


def fmt(value, digits=2):
    return "-" if value is None else "%.*f" % (digits, value)


def ratio(a, b):
    return "-" if a is None or b is None else "%.2fx" % (a / b)


def print_summary(results, load_before, load_after):
    pmx, npy, mxn, tch = (results.get(k) for k in ("polymix", "numpy", "mxnet", "torch"))
    mxn = mxn if isinstance(mxn, dict) else None
    tch = tch if isinstance(tch, dict) else None
    rows = [("1-element add, async (us/op)", "add_async_us", 2),
            ("1-element add, sync (us/op)", "add_sync_us", 2),
            ("MLP step, imperative (ms)", "mlp_imperative_ms", 1),
            ("MLP step, hybridized (ms)", "mlp_hybrid_ms", 1),
            ("Fashion CNN, 50 batches (s)", "cnn_50_batches_s", 2)]
    header = "%-30s %9s %9s %9s %9s  %10s %10s %10s" % ("workload", "polymix", "numpy", "mxnet", "torch",
                                                     "pmx/numpy", "pmx/mxnet", "pmx/torch")
    print("\n" + header + "\n" + "-" * len(header))
    for label, key, digits in rows:
        p = pmx.get(key)
        n = npy.get(key) if npy else None
        m = mxn.get(key) if mxn else None
        # PyTorch has no hybridize: its eager step is the reference for both MLP rows.
        t = (tch.get(key) or (tch.get("mlp_imperative_ms") if key == "mlp_hybrid_ms" else None)) if tch else None
        print("%-30s %9s %9s %9s %9s  %10s %10s %10s" % (label, fmt(p, digits), fmt(n, digits), fmt(m, digits),
                                                         fmt(t, digits), ratio(p, n), ratio(p, m), ratio(p, t)))
    print("\nTarget: 1-element add <= 5 us/op (polymix async: %s)" % fmt(pmx["add_async_us"]))
    print("Targets: hybridized MLP step <= 1.0x PyTorch (%s) and <= 0.8x "
          "MXNet 1.9.1 (%s)." % (ratio(pmx["mlp_hybrid_ms"], (tch or {}).get(
              "mlp_imperative_ms")), ratio(pmx["mlp_hybrid_ms"], (mxn or {}).get("mlp_hybrid_ms"))))
    if not isinstance(results.get("mxnet"), dict):
        print("MXNet 1.9.1: %s" % results.get("mxnet"))
    print("PyTorch: %s" % ("%s, %d threads" % (tch["version"], tch["threads"]) if tch else results["torch"]))
    print("MXNet: %s" % ("%s, OMP threads %s" % (mxn["version"], mxn["threads"]) if mxn else "-"))
    print("polymix: %s; OMP_NUM_THREADS=%s; %d CPUs" % (pmx["version"], os.environ.get("OMP_NUM_THREADS", "unset"),
                                                     os.cpu_count()))
    print("load average (1, 5, 15 min): before %.2f %.2f %.2f, after %.2f %.2f %.2f" % (load_before + load_after))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker", choices=["polymix", "mxnet", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds; figures are the best round")
    parser.add_argument("--quick", action="store_true", help="few iterations: a smoke run, not a measurement")
    args = parser.parse_args(argv)

    if args.worker == "torch":
        print(RESULT_TAG + json.dumps(run_torch(args)), flush=True)
        return 0
    if args.worker is not None:
        mx = __import__(args.worker)
        result = run_mx(mx, args)
        result["version"] = getattr(mx, "__version__", "?")
        result["threads"] = os.environ.get("OMP_NUM_THREADS", "default")
        print(RESULT_TAG + json.dumps(result), flush=True)
        return 0

    load_before = os.getloadavg()
    print("load average before: %.2f %.2f %.2f" % load_before, flush=True)
    import polymix as mx
    # Rounds alternate the backends so that load from other tenants hits each alike; each figure is the best
    # (lowest) over the rounds.
    rounds = []
    for r in range(args.rounds):
        results = {"numpy": numpy_dispatch(2000 if args.quick else 20000, 5)}
        results["polymix"] = run_mx(mx, args)
        results["polymix"]["version"] = getattr(mx, "__version__", "?")
        if os.path.exists(MXNET_PYTHON):
            results["mxnet"] = run_worker(MXNET_PYTHON, "mxnet", args)
        else:
            results["mxnet"] = "not installed (%s missing; tools/setup makes it)" % MXNET_PYTHON
        results["torch"] = (run_worker(TORCH_PYTHON, "torch", args) if torch_available()
                            else "not installed (tools/setup_bench makes it)")
        print("round %d/%d done" % (r + 1, args.rounds), flush=True)
        rounds.append(results)
    results = best_of_rounds(rounds)
    print_summary(results, load_before, os.getloadavg())
    return 0


if __name__ == "__main__":
    sys.exit(main())
