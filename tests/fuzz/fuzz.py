"""Mutation fuzzing of every decoder, the EDF/BDF header check and pipeline YAML.

Run ``python tests/fuzz/fuzz.py --seconds 120`` (``make fuzz-ci``) or longer (``make fuzz``). Each case
is a mutated seed file, run in a child process forked from the harness (so the imports are paid once),
under an address-space limit (``RLIMIT_AS``) and a wall-clock timeout. The child runs the target in
strict mode, lenient mode and lenient chunked mode, and checks that lenient whole and chunked reads
give the same events. Outcomes:

- ``ok``: the target succeeded or raised a :class:`~neurosig.core.errors.NeurosigError`;
- ``crash``: any other exception escaped (a ``MemoryError`` under the limit included);
- ``mismatch``: lenient whole and chunked reads disagree;
- ``hang``: the case ran past the timeout and was killed;
- ``abort``: the child died from a signal (SIGABRT from a failed Rust allocation, SIGSEGV, ...).

Every non-ok case is saved under ``--out`` (input file, target, traceback) to become a regression test.
The summary (JSON) gives counts per target. Why a seeded byte-mutation loop and not atheris: atheris
has no wheel for this Python and needs a clang-instrumented build, and its coverage guidance sees little
of the Numba and Rust decoders, which are not instrumented; a plain loop is reproducible from
``(--seed, case number)`` and needs nothing beyond the standard library.
"""

from __future__ import annotations

import argparse
import faulthandler
import functools
import json
import math
import os
import random
import resource
import shutil
import signal
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import seeds as seedlib  # noqa: E402 - the harness runs as a script

TARGETS = tuple(seedlib.SUFFIX)
OUTCOMES = ("ok", "crash", "mismatch", "hang", "abort")
_INTERESTING = [0, 1, 2, 7, 8, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 2**31 - 1, 2**31, 2**32 - 1, 2**63 - 1]
_PREFIX = 1 << 16  # bytes of a long word-format sample used as a seed
_TEXT_NUMBERS = [b"-1", b"0", b"1e-6", b"-0.5", b"4000000000", b"99999999", b"-99999", b"nan", b"1e308"]


# -- mutations ---------------------------------------------------------------------------------------


def mutate(data: bytes, rng: random.Random, head: int) -> bytes:
    """One to four random mutations, half of them aimed at the first ``head`` bytes (the header)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
            continue
        span = min(len(out), head) if rng.random() < 0.5 else len(out)
        pos = rng.randrange(span)
        kind = rng.randrange(8)
        if kind == 0:  # flip bits
            out[pos] ^= 1 << rng.randrange(8)
        elif kind == 1:  # a random byte
            out[pos] = rng.randrange(256)
        elif kind == 2:  # an interesting integer, 1/2/4/8 bytes, either sign
            width = rng.choice((1, 2, 4, 8))
            value = rng.choice(_INTERESTING) * rng.choice((1, -1)) + rng.randint(-2, 2)
            raw = (value % (1 << (8 * width))).to_bytes(width, "little")
            out[pos : pos + width] = raw
        elif kind == 3:  # truncate
            del out[pos:]
        elif kind == 4:  # delete a run
            del out[pos : pos + rng.randint(1, 64)]
        elif kind == 5:  # duplicate a run
            run = out[pos : pos + rng.randint(1, 256)]
            out[pos:pos] = run
        elif kind == 6:  # insert random bytes
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:  # replace a run of ASCII digits (text headers: %, EDF, YAML) with a hostile number
            digits = [i for i in range(span) if 48 <= out[i] <= 57]
            if digits:
                a = b = rng.choice(digits)
                while b < len(out) and 48 <= out[b] <= 57:
                    b += 1
                out[a:b] = rng.choice(_TEXT_NUMBERS)
    return bytes(out)


# -- targets (run in the child) ----------------------------------------------------------------------


def chunking(size: int, rng: random.Random) -> tuple[int, int | None]:
    """The chunked read of a case: ``(block_bytes, n_events)``, at most about 2,000 blocks."""
    block = rng.choice([b for b in (1, 5, 16, 64, 1000, 4096, 1 << 16) if b * 2000 >= size] or [1 << 16])
    return block, rng.choice((None, 1, 7, 1000))


def _events_target(path: Path, block: int, n_events: int | None) -> str:
    from neurosig.core.errors import NeurosigError
    from neurosig.io.events import iter_events, read_events

    try:
        read_events(path, strict=True)
    except NeurosigError:
        pass
    try:
        whole = read_events(path, strict=False).events
    except NeurosigError:
        return "ok"
    try:
        parts = [c.events for c in iter_events(path, strict=False, block_bytes=block, n_events=n_events)]
    except NeurosigError as err:
        return f"mismatch: the whole lenient read succeeded, the chunked one raised {err}"
    chunked = np.concatenate(parts) if parts else whole[:0]
    if not np.array_equal(whole, chunked):
        return f"mismatch: {len(whole)} events whole, {len(chunked)} chunked (block_bytes={block})"
    return "ok"


def _edf_target(path: Path) -> str:
    from neurosig.core.errors import NeurosigError
    from neurosig.io.eeg import open_raw

    try:
        raw = open_raw(path)
        if raw.n_times:  # the file source reads nothing from a recording without samples
            raw.get_data(start=0, stop=min(raw.n_times, 64))
    except NeurosigError:
        pass
    return "ok"


def _yaml_target(path: Path) -> str:
    from neurosig.core.config import JobConfig, PipelineConfig, build_pipeline, load_config
    from neurosig.core.errors import NeurosigError

    try:
        config = load_config(path)
        if isinstance(config, PipelineConfig):
            build_pipeline(config)
        elif isinstance(config, JobConfig):
            pass  # building a job imports its models; the config check is what reads user text
    except NeurosigError:
        pass
    return "ok"


def run_target(target: str, path: Path, block: int = 1 << 16, n_events: int | None = None) -> str:
    """Run one target on one file; ``"ok"`` or ``"mismatch: ..."`` (other exceptions escape).

    ``block`` and ``n_events`` shape the chunked read of the event targets."""
    if target == "edf":
        return _edf_target(path)
    if target == "yaml":
        return _yaml_target(path)
    return _events_target(path, block, n_events)


# -- one case in a child process ---------------------------------------------------------------------


def _address_space() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


#: A case blocked without using the CPU (a FIFO, a lock, a sleep) is a hang after this many times its
#: CPU budget in wall-clock seconds.
WALL_FACTOR = 4


def run_case(call, timeout: float, memory: int, report: Path) -> tuple[str, float]:
    """Fork, run ``call()`` in the child under ``memory`` more bytes of address space than now and
    ``timeout`` seconds of CPU time; return the outcome and the CPU seconds the child used. The child
    writes its traceback or message to ``report``.

    A hang is measured in CPU seconds (``RLIMIT_CPU``, so a loaded machine that starves the child does
    not make one), and in wall-clock seconds only past ``WALL_FACTOR * timeout`` (a child blocked
    without spinning)."""
    limit = _address_space() + memory
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 0
        try:
            faulthandler.disable()  # an abort is counted, not dumped into the harness's output
            cpu = math.ceil(timeout)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            warnings.simplefilter("ignore")
            result = call()
            if result != "ok":
                report.write_text(result)
                code = 4
        except BaseException:  # noqa: BLE001 - anything but a NeurosigError (caught inside) is a crash
            try:
                report.write_text(traceback.format_exc())
            finally:
                code = 3
        os._exit(code)
    deadline = time.monotonic() + WALL_FACTOR * timeout
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            usage = os.wait4(pid, 0)[2]
            return "hang", usage.ru_utime + usage.ru_stime
        time.sleep(0.002)
    cpu_s = usage.ru_utime + usage.ru_stime
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU or (sig == signal.SIGKILL and cpu_s >= timeout):
            return "hang", cpu_s  # past the CPU limit (SIGXCPU, then SIGKILL at the hard limit)
        report.write_text(f"killed by signal {signal.Signals(sig).name}")
        return "abort", cpu_s
    return {0: "ok", 3: "crash", 4: "mismatch"}.get(os.WEXITSTATUS(status), "crash"), cpu_s


# -- the loop ----------------------------------------------------------------------------------------


def _warm_up(seeds: dict[str, list[Path]]) -> None:
    """Run every target once on its seeds in this process, so that children inherit compiled kernels
    and imported modules (a fork per case then costs milliseconds, not seconds)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for target, paths in seeds.items():
            for path in paths:
                run_target(target, path)


def fuzz(
    seconds: float,
    targets: tuple[str, ...],
    out: Path,
    seed: int = 0,
    timeout: float = 20.0,
    memory: int = 1 << 30,
    shared_data: Path | None = None,
    max_saved: int = 20,
) -> dict:
    """Fuzz ``targets`` round-robin for ``seconds``; return the summary (also written to ``out``)."""
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="neurosig-fuzz-"))
    seeds = seedlib.generated(work / "seeds")
    notes: list[str] = []
    if shared_data is not None:
        real, notes = seedlib.shared(shared_data)
        for target, paths in real.items():
            for path in paths:  # word formats: a prefix of a long recording mutates as well, faster
                if target in ("evt2", "evt3", "dat", "nmnist") and path.stat().st_size > _PREFIX:
                    prefix = work / "seeds" / f"prefix_{path.name}"
                    prefix.write_bytes(path.read_bytes()[:_PREFIX])
                    path = prefix
                seeds[target].append(path)
    seeds["yaml"] = sorted((Path(__file__).resolve().parents[2] / "pipelines").glob("*.yaml"))
    seeds = {t: seeds[t] for t in targets}
    _warm_up(seeds)
    blobs = {t: [p.read_bytes() for p in paths] for t, paths in seeds.items()}
    counts = {t: dict.fromkeys(("cases", *OUTCOMES), 0) for t in targets}
    slowest: dict[str, dict] = {}
    saved = 0
    case = 0
    start = time.monotonic()
    try:
        while time.monotonic() - start < seconds:
            target = targets[case % len(targets)]
            rng = random.Random(seed * 1_000_003 + case)
            which = rng.randrange(len(blobs[target]))
            head = 256 * 64 if target == "edf" else 4096
            path = work / f"case{seedlib.SUFFIX[target]}"
            path.write_bytes(mutate(blobs[target][which], rng, head))
            block, n_events = chunking(path.stat().st_size, rng)
            report = work / "report.txt"
            report.unlink(missing_ok=True)
            began = time.monotonic()
            call = functools.partial(run_target, target, path, block, n_events)
            outcome, cpu_s = run_case(call, timeout, memory, report)
            replay = {
                "target": target,
                "seed": seed,
                "case": case,
                "seed_file": seeds[target][which].name,
                "bytes": path.stat().st_size,
                "block_bytes": block,
                "n_events": n_events,
                "outcome": outcome,
                "cpu_s": round(cpu_s, 2),
                "wall_s": round(time.monotonic() - began, 2),
            }
            counts[target]["cases"] += 1
            counts[target][outcome] += 1
            if cpu_s > slowest.get(target, {}).get("cpu_s", -1):
                slowest[target] = replay
            if outcome != "ok" and saved < max_saved:
                saved += 1
                keep = out / f"{target}-{outcome}-seed{seed}-case{case}{seedlib.SUFFIX[target]}"
                shutil.copyfile(path, keep)
                text = report.read_text() if report.exists() else ""
                keep.with_suffix(keep.suffix + ".txt").write_text(f"{target} {outcome}\n{text}")
                keep.with_suffix(keep.suffix + ".json").write_text(json.dumps(replay, indent=2))
            case += 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "seconds": round(time.monotonic() - start, 1),
        "seed": seed,
        "timeout_s": timeout,
        "memory_limit_bytes": memory,
        "seeds": {t: len(p) for t, p in seeds.items()},
        "notes": notes,
        "counts": counts,
        "slowest": slowest,
    }
    (out / f"summary-seed{seed}.json").write_text(json.dumps(summary, indent=2))
    return summary


def replay(case: Path) -> str:
    """Rerun a saved case (``CASE.json`` beside the saved input) in this process; print what it took."""
    spec = json.loads(case.with_suffix(case.suffix + ".json").read_text())
    began, cpu = time.monotonic(), time.process_time()
    result = run_target(spec["target"], case, spec["block_bytes"], spec["n_events"])
    print(f"{case}: {result} in {time.monotonic() - began:.2f} s ({time.process_time() - cpu:.2f} s CPU)")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="time budget of the whole run")
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0, help="cases are reproducible from (seed, case)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help=f"CPU seconds per case before a hang (wall: {WALL_FACTOR}x)",
    )
    parser.add_argument("--memory", type=float, default=1.0, help="GiB of address space per case")
    parser.add_argument("--out", type=Path, default=Path("out/fuzz"), help="summary and findings")
    default_data = Path(__file__).resolve().parents[3] / "shared" / "data"
    parser.add_argument(
        "--shared-data", type=Path, default=Path(os.environ.get("NEUROSIG_SHARED_DATA", default_data))
    )
    parser.add_argument("--replay", type=Path, help="rerun one saved case (its input; CASE.json beside it)")
    args = parser.parse_args(argv)
    if args.replay:
        return 0 if replay(args.replay) == "ok" else 1
    summary = fuzz(
        args.seconds,
        tuple(args.targets),
        args.out,
        seed=args.seed,
        timeout=args.timeout,
        memory=int(args.memory * (1 << 30)),
        shared_data=args.shared_data if args.shared_data.is_dir() else None,
    )
    if not args.shared_data.is_dir():
        print(f"shared data not found at {args.shared_data}: generated seeds only", file=sys.stderr)
    for note in summary["notes"]:
        print(note, file=sys.stderr)
    print(f"{'target':8} " + " ".join(f"{k:>8}" for k in ("cases", *OUTCOMES)))
    for target, c in summary["counts"].items():
        print(f"{target:8} " + " ".join(f"{c[k]:>8}" for k in ("cases", *OUTCOMES)))
    bad = sum(c[k] for c in summary["counts"].values() for k in OUTCOMES if k != "ok")
    for target, case in summary["slowest"].items():
        print(f"slowest {target}: {json.dumps(case)}")
    print(f"{bad} findings in {summary['seconds']} s; inputs and tracebacks under {args.out}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
