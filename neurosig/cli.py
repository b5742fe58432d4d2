"""The ``neurosig`` command: run pipelines and jobs, inspect files, run the demo and benchmarks."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from neurosig._version import __version__
from neurosig.core.errors import NeurosigError

__all__ = ["main"]

REPO_ROOT = Path(__file__).resolve().parents[1]


# Units of the numbers `neurosig info` prints, by key (the JSON form stays plain numbers).
_UNITS = {"sfreq": "Hz", "duration": "s", "tmin": "s", "chunk_duration": "s", "line_freq": "Hz"}


def _print_mapping(d: dict[str, Any], indent: int = 0) -> None:
    pad = " " * indent
    for key, value in d.items():
        if isinstance(value, dict) and value:
            print(f"{pad}{key}:")
            _print_mapping(value, indent + 2)
        elif isinstance(value, list) and len(value) > 12:
            print(f"{pad}{key}: {', '.join(map(str, value[:12]))}, ... ({len(value)} in all)")
        elif isinstance(value, list | dict):
            print(f"{pad}{key}: {', '.join(map(str, value)) or 'none'}")
        elif isinstance(value, str) and "\n" in value.strip():
            print(f"{pad}{key}: |")
            print("\n".join(f"{pad}  {line}" for line in value.strip().splitlines()))
        else:
            unit = f" {_UNITS[key]}" if key in _UNITS and value not in (None, "None") else ""
            print(f"{pad}{key}: {value}{unit}")


def _outline(value: Any) -> Any:
    """A report's value as ``neurosig info`` shows it: scalars and short lists whole, the rest sized."""
    if isinstance(value, dict):
        return f"({len(value)} entries)"
    if isinstance(value, list) and (len(value) > 12 or any(isinstance(v, dict | list) for v in value)):
        return f"({len(value)} items)"
    return value


def _run_config(path: str | Any, overrides: list[str], progress: bool) -> None:
    from neurosig.core.config import JobConfig, SuiteConfig, build_job, build_pipeline, load_config
    from neurosig.executor import run_suite

    config = load_config(path, overrides)
    if isinstance(config, SuiteConfig):
        print(run_suite(config, progress=progress))
    elif isinstance(config, JobConfig):
        job = build_job(config)
        print(job.headline(job.run(progress=progress)))
    else:
        print(build_pipeline(config).run(progress=progress))


def cmd_run(args: argparse.Namespace) -> int:
    if not args.inputs and not args.bids_root:
        _run_config(args.pipeline, args.set or [], progress=not args.no_progress)
        return 0
    from neurosig.core.config import load_config
    from neurosig.jobs.dataset import process_dataset

    results, files = process_dataset(
        load_config(args.pipeline, args.set or []),
        args.out_dir,
        inputs=args.inputs or (),
        bids_root=args.bids_root,
        subjects=args.subjects,
        sessions=args.sessions,
        tasks=args.tasks,
        runs=args.runs,
        executor="dask" if args.scheduler else args.executor,
        scheduler=args.scheduler,
        n_workers=args.workers,
        progress=not args.no_progress,
    )
    for r in results:
        print(f"{r.status:8} {r.input} -> {r.output}" + (f"  ({r.error})" if r.error else ""))
    failed = sum(r.status == "failed" for r in results)
    print(f"{len(results) - failed} of {len(results)} recordings done or already complete, {failed} failed")
    for name, path in files.items():
        print(f"{name}: {path}")
    return 1 if failed else 0


def file_info(path: str) -> dict[str, Any]:
    """Describe a recording, an events file or a neurosig HDF5 output."""
    from neurosig.core.validate import check_existing_file

    p = check_existing_file(path)
    if p.suffix.lower() in (".h5", ".hdf5"):
        import h5py

        from neurosig.io.hdf5 import read_attrs, read_reports

        attrs = read_attrs(p)
        with h5py.File(p, "r") as f:
            datasets = {k: f"{f[k].shape} {f[k].dtype}" for k in f.keys() if hasattr(f[k], "shape")}
        info = {"path": str(p), "format": "neurosig HDF5", "datasets": datasets}
        info.update({k: v for k, v in attrs.items() if k != "pipeline_yaml"})
        info["pipeline"] = attrs.get("pipeline_yaml", "")
        info["reports"] = {
            f"reports/{name}": {k: _outline(v) for k, v in r.items()} if isinstance(r, dict) else _outline(r)
            for name, r in read_reports(p).items()
        }
        return info
    from neurosig.core.errors import FormatError
    from neurosig.io import events

    try:
        events.sniff(p)
    except FormatError:
        from neurosig.io.eeg import eeg_file_info

        return eeg_file_info(p)
    return events.info(p)


def cmd_info(args: argparse.Namespace) -> int:
    info = file_info(args.file)
    if args.json:
        print(json.dumps(info, indent=2, default=str))
    else:
        _print_mapping(_for_reading(info))
    return 0


def _for_reading(info: dict[str, Any]) -> dict[str, Any]:
    """``file_info`` as the text form shows it: the source's parameters only where no pipeline YAML
    (which holds them) is shown, and channel positions counted (``--json`` gives them all)."""
    info = dict(info)
    source = info.get("source")
    if isinstance(source, dict) and info.get("pipeline") and "params" in source:
        info["source"] = {k: v for k, v in source.items() if k != "params"}
    stream = info.get("stream_info")
    if isinstance(stream, dict) and stream.get("ch_pos"):
        placed = sum(p is not None for p in stream["ch_pos"])
        stream = {**stream, "ch_pos": f"{placed} of {len(stream['ch_pos'])} channels (x, y, z in m; --json)"}
        info["stream_info"] = stream
    return info


def cmd_convert(args: argparse.Namespace) -> int:
    from neurosig.io.events import convert

    summary = convert(args.src, args.dst, args.format, overwrite=args.overwrite)
    _print_mapping({str(k): v for k, v in summary.items()})
    return 0


def cmd_export_nir(args: argparse.Namespace) -> int:
    from neurosig.snn.nir_graph import export_nir

    print(f"wrote {export_nir(args.checkpoint, args.out)}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from neurosig.core.config import PipelineConfig, SuiteConfig, load_config
    from neurosig.executor import run_suite
    from neurosig.io.hdf5 import read_attrs
    from neurosig.plotting import plot_outputs

    pipeline = REPO_ROOT / "pipelines" / "demo.yaml"
    if not pipeline.is_file():
        raise NeurosigError(
            f"the demo pipeline {pipeline} is missing; install neurosig from a source checkout "
            "(pip install -e .) or run `neurosig run YOUR.yaml`."
        )
    config = load_config(pipeline)
    members = config.pipelines if isinstance(config, SuiteConfig) else [config]
    outputs = [Path(m.sink.params["path"]) for m in members if isinstance(m, PipelineConfig) and m.sink]
    for target in outputs:  # the demo always runs afresh
        if target.exists():
            read_attrs(target)  # refuses to touch a file neurosig did not write
            target.unlink()
    print(f"neurosig {__version__} demo: {pipeline.relative_to(REPO_ROOT)} (offline, simulated data)")
    t0 = time.perf_counter()
    result = run_suite(config, progress=not args.no_progress)
    for member in result.members:  # a figure beside each stream output that has a natural picture
        if member.output is not None:
            member.files += plot_outputs([member.output])
    result.seconds = time.perf_counter() - t0
    print(result)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    folder = REPO_ROOT / "benchmarks"
    scripts = sorted(p.stem.removeprefix("bench_") for p in folder.glob("bench_*.py"))
    if not args.name:
        print("benchmarks: " + ", ".join(scripts))
        return 0
    if args.name not in scripts:
        from neurosig.core.validate import check_option

        check_option("benchmark", args.name, scripts)
    return subprocess.call([sys.executable, str(folder / f"bench_{args.name}.py"), *args.extra])


def cmd_replay(args: argparse.Namespace) -> int:
    import faulthandler
    import signal
    import time

    from neurosig.io.lsl import replay, stop_player

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: where every thread is

    player = replay(args.file, name=args.name, chunk_size=args.chunk_size, loop=args.loop)
    markers = f" and {player.name}-annotations (markers)" if len(player.annotations) else ""
    print(
        f"publishing {player.name} ({len(player.ch_names)} ch at {player.info['sfreq']:g} Hz){markers}"
        f"{' in a loop' if args.loop else ''}; Ctrl-C to stop"
    )
    try:
        while player.running:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        stop_player(player)
    return 0


def cmd_stream(args: argparse.Namespace) -> int:
    import signal

    from neurosig.core.config import build_pipeline
    from neurosig.io.lsl import LiveMonitor, LSLSource

    pipeline = build_pipeline(args.pipeline, args.set or [])
    if not isinstance(pipeline.source, LSLSource):
        raise NeurosigError(
            f"{args.pipeline}: `neurosig stream` needs a live source ({{type: lsl, name: ...}}), got "
            f"{type(pipeline.source).__name__}; use `neurosig run` for files."
        )
    if args.duration is not None:
        pipeline.source.duration = args.duration
    pipeline.monitor = monitor = LiveMonitor(pipeline.source)

    def stop(signum, frame):  # first Ctrl-C: finish cleanly; second: interrupt
        pipeline.source.stop()
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        summary = pipeline.run(progress=not args.no_progress)
    finally:
        signal.signal(signal.SIGINT, previous)
    print(summary)
    print(json.dumps(monitor.summary(), indent=2))
    return 0


def cmd_fit_decoder(args: argparse.Namespace) -> int:
    from neurosig.bci.online import fit_decoder

    path = fit_decoder(args.pipeline, args.files, args.out, baseline=args.baseline)
    print(f"wrote {path} ({args.baseline}, trained on {len(args.files)} recording(s))")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurosig", description=__doc__)
    parser.add_argument("--version", action="version", version=f"neurosig {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a pipeline or job YAML file")
    run.add_argument("pipeline", help="path to a pipeline YAML file (see pipelines/)")
    run.add_argument(
        "--set", action="append", metavar="KEY=VALUE", help="override a field, e.g. sink.path=out.h5"
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    run.add_argument("--inputs", nargs="+", metavar="FILE", help="map the pipeline over these recordings")
    run.add_argument(
        "--bids-root", metavar="ROOT", help="map the pipeline over a BIDS dataset's EEG recordings"
    )
    for entity in ("subjects", "sessions", "tasks", "runs"):
        run.add_argument(
            f"--{entity}", nargs="+", metavar="ID", help=f"with --bids-root: only these {entity}"
        )
    run.add_argument(
        "--out-dir",
        default="out",
        help="with --inputs or --bids-root: the outputs (BIDS derivatives for --bids-root) and the report",
    )
    run.add_argument("--executor", choices=["local", "dask"], default="local", help="with --inputs")
    run.add_argument("--scheduler", help="address of a running Dask scheduler (implies --executor dask)")
    run.add_argument("--workers", type=int, default=2, help="with --executor dask: local workers")
    run.set_defaults(func=cmd_run)

    info = sub.add_parser("info", help="describe a recording, an event file or a neurosig HDF5 file")
    info.add_argument("file")
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(func=cmd_info)

    convert = sub.add_parser(
        "convert", help="convert an event file (EVT2, EVT3, DAT, AEDAT4, N-MNIST, NPY, HDF5)"
    )
    convert.add_argument("src", help="input event file")
    convert.add_argument(
        "dst", help="output file; its extension picks the format (.raw EVT2/EVT3, .dat, .npy, .h5)"
    )
    convert.add_argument(
        "--format", help="output format when the extension is ambiguous (evt2, evt3, dat, npy, hdf5)"
    )
    convert.add_argument("--overwrite", action="store_true", help="replace an existing output")
    convert.set_defaults(func=cmd_convert)

    export = sub.add_parser(
        "export-nir", help="write an event_train model (model.pt) as a NIR graph, delays as Delay nodes"
    )
    export.add_argument("checkpoint", help="model.pt written by the event_train job")
    export.add_argument("out", help="the NIR file to write (HDF5, e.g. model.nir)")
    export.set_defaults(func=cmd_export_nir)

    demo = sub.add_parser(
        "demo", help="run pipelines/demo.yaml offline on simulated data (writes ./out/demo/)"
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    demo.set_defaults(func=cmd_demo)

    replay = sub.add_parser("replay", help="publish a recording and its annotations on LSL (mne-lsl)")
    replay.add_argument("file", help="any recording MNE reads")
    replay.add_argument("--name", help="stream name (default: the file's stem)")
    replay.add_argument("--chunk-size", type=int, default=16, help="samples per pushed chunk")
    replay.add_argument("--loop", action="store_true", help="start again at the end of the file")
    replay.set_defaults(func=cmd_replay)

    stream = sub.add_parser("stream", help="run a pipeline on a live LSL source until Ctrl-C")
    stream.add_argument("pipeline", help="pipeline YAML with an lsl source (see pipelines/realtime.yaml)")
    stream.add_argument("--duration", type=float, help="stop after this many seconds")
    stream.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a field")
    stream.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    stream.set_defaults(func=cmd_stream)

    fit = sub.add_parser(
        "fit-decoder", help="train the classify stage's decoder on recordings cut by a pipeline's stages"
    )
    fit.add_argument("pipeline", help="the online pipeline YAML (e.g. pipelines/realtime.yaml)")
    fit.add_argument("files", nargs="+", help="training recordings with the markers its epochs lock to")
    fit.add_argument("--out", required=True, help="the decoder checkpoint to write (.pt)")
    fit.add_argument("--baseline", choices=["csp_lda", "ts_lr"], default="csp_lda", help="the decoder")
    fit.set_defaults(func=cmd_fit_decoder)

    bench = sub.add_parser("bench", help="list or run the benchmarks in benchmarks/")
    bench.add_argument("name", nargs="?", help="benchmark name (omit to list)")
    bench.add_argument("extra", nargs=argparse.REMAINDER, help="arguments for the benchmark script")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``neurosig`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except NeurosigError as err:
        print(f"neurosig: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a path the user gave: missing, unreadable, unwritable, a folder
        where = f"{err.filename}: {err.strerror}" if err.filename else str(err)
        print(f"neurosig: error: {where}; check the path and its permissions.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
