"""The ``bench`` command line."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__
from .errors import BenchError
from .results.row import DEFAULT_MATCH_TOLERANCE


def _codec_opts(items: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for it in items or []:
        name, _, kv = it.partition(".")
        key, eq, val = kv.partition("=")
        if not (name and key and eq):
            raise BenchError(f"--codec-opt {it!r}: expected CODEC.KEY=VALUE, e.g. x265.preset=slow")
        out.setdefault(name, {})[key] = val
    return out


def _add_store(p):
    p.add_argument("--store", type=Path, default=None,
                   help="results store (default: $BENCH_STORE or reports/results.sqlite)")


def build_parser() -> argparse.ArgumentParser:
    from .run.sweep import DEFAULT_CODECS, DEFAULT_METRICS, DEFAULT_TARGETS

    p = argparse.ArgumentParser(prog="bench", description="Compare video codecs at extremely low bitrates.")
    p.add_argument("--version", action="version", version=f"bench {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    r = sub.add_parser("run", help="sweep bpp targets over a suite for each codec, store every result",
                       description="For each codec x sequence x target bpp, find the codec setting whose real "
                                   "bitstream is closest to the target, decode it, measure it, store it. "
                                   "Re-running the same command skips what is already stored.")
    r.add_argument("--suite", default="demo", help="suite name, manifest .json or folder of videos (default: demo)")
    r.add_argument("--sequences", help="comma-separated subset of the suite's sequences")
    r.add_argument("--codecs", default=",".join(DEFAULT_CODECS), help=f"comma-separated (default: {','.join(DEFAULT_CODECS)})")
    r.add_argument("--codec-opt", action="append", metavar="CODEC.KEY=VALUE", help="adapter option, repeatable")
    r.add_argument("--bpp", default=",".join(f"{t:g}" for t in DEFAULT_TARGETS), help="target bits per pixel, comma-separated")
    r.add_argument("--metrics", default=",".join(DEFAULT_METRICS), help="comma-separated metric names")
    r.add_argument("--frames", type=int, help="at most N frames per sequence (after --fps-step)")
    r.add_argument("--fps-step", type=int, help="keep every K-th frame")
    r.add_argument("--fps", type=float, help="frame rate to keep: every (sequence's rate / FPS)-th frame")
    r.add_argument("--protocol", help="named test conditions (bench list protocols) or a protocol .toml/.json; "
                                      "options given here override it")
    r.add_argument("--size", help="resize every sequence to WxH (e.g. 1280x704)")
    r.add_argument("--resize", choices=["crop", "scale"], default="crop",
                   help="crop: keep aspect ratio, cover and centre-crop (default); scale: stretch")
    r.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="parallel jobs (default: CPU count)")
    r.add_argument("--backend", default="loky", choices=["loky", "threading", "sequential", "dask"],
                   help="where jobs run (dask: on a local Dask cluster, or on the workers of --scheduler ADDRESS)")
    r.add_argument("--scheduler", help="address of a running Dask scheduler whose workers run the jobs "
                                       "(with --backend dask; they need no shared files)")
    r.add_argument("--timeout", type=float, default=1800.0, help="seconds per target: encodes, decode, metrics")
    r.add_argument("--skip-failed", action="store_true", help="do not retry targets stored as failed")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--device", help="torch device for metrics (default: cuda if available)")
    _add_store(r)

    rep = sub.add_parser("report", help="build the HTML report (RD curves, BD-rates, GIF tables) of stored results",
                         description="Build a static HTML report from the results store: RD curves, BD-rate "
                                     "tables against an anchor, GIF tables by bitrate range, one page per sequence. "
                                     "Prints the per-sequence text tables and the path of index.html.")
    rep.add_argument("--suite", help="only this suite")
    rep.add_argument("--output", "-o", type=Path, help="report folder (default: reports/html)")
    rep.add_argument("--anchor", help="codec the BD-rates are against (default: VTM if present, else vvenc)")
    rep.add_argument("--ranges", help="bitrate ranges of the GIF tables, e.g. 0.001-0.003,0.003-0.008 "
                                      "(default: 0.001-0.003,0.003-0.008,0.008-0.02)")
    rep.add_argument("--gif-width", type=int, default=320, help="width of each GIF in pixels (default 320)")
    rep.add_argument("--gif-fps", type=float, help="GIF frame rate (default: the sequence's, at most 25)")
    rep.add_argument("--gif-frames", type=int, help="at most N frames per GIF (default: all)")
    rep.add_argument("--ladder-metric", default="psnr_yuv",
                     help="metric output that picks a resolution ladder's best scale at each target (default psnr_yuv)")
    rep.add_argument("--match-tolerance", type=float, default=DEFAULT_MATCH_TOLERANCE,
                     help="a target counts as met when the stored bpp is within this fraction of it (default 0.25: "
                          "±25 %%); rows further off are shown as off-target and left out of matched-bpp comparisons")
    rep.add_argument("--jobs", "-j", type=int, help="rows whose GIFs are made at once (default: the CPU count, at most 4)")
    rep.add_argument("--no-gifs", action="store_true", help="plots and tables only (no re-decoding)")
    rep.add_argument("--text", action="store_true", help="print the text tables only; build no HTML")
    rep.add_argument("--open", action="store_true", help="open index.html in a browser when done")
    _add_store(rep)

    f = sub.add_parser("fetch", help="download, verify and convert a suite's sequences")
    f.add_argument("--suite", required=True)
    f.add_argument("--from", dest="source", type=Path, help="use a local archive or folder instead of downloading")
    f.add_argument("--no-progress", action="store_true")

    ls = sub.add_parser("list", help="list codecs, suites or metrics")
    ls.add_argument("what", choices=["codecs", "suites", "metrics", "protocols"])

    res = sub.add_parser("results", help="export stored results")
    res.add_argument("--format", default="table", choices=["table", "csv", "parquet", "json"])
    res.add_argument("--output", "-o", type=Path)
    _add_store(res)

    imp = sub.add_parser("import", help="import published results (e.g. DCVC's anchor JSON) as an external codec")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", required=True, choices=["dcvc-json"])
    imp.add_argument("--codec", help="codec name for the imported rows (default: the file's stem)")
    _add_store(imp)
    return p


def _given(argv: list[str], command: str) -> set[str]:
    """The options of ``command`` that ``argv`` gives (their argparse names)."""
    p = build_parser()
    for act in p._subparsers._group_actions[0].choices[command]._actions:
        act.default = argparse.SUPPRESS
    return set(vars(p.parse_args(argv))) - {"command"}


def cmd_run(a) -> int:
    from fractions import Fraction

    from .run.sweep import SweepConfig, parse_targets, sweep
    from .suites.sequences import parse_size

    cfg = SweepConfig(suite=a.suite, sequences=a.sequences.split(",") if a.sequences else None,
                      codecs=[c for c in a.codecs.split(",") if c], codec_options=_codec_opts(a.codec_opt),
                      targets=parse_targets(a.bpp), metrics=[m for m in a.metrics.split(",") if m],
                      frames=a.frames, fps_step=a.fps_step, size=parse_size(a.size), resize=a.resize,
                      jobs=max(1, a.jobs), backend=a.backend, scheduler=a.scheduler, timeout=a.timeout,
                      store=a.store, retry_failed=not a.skip_failed, progress=not a.no_progress, device=a.device,
                      fps=Fraction(a.fps).limit_denominator(1001) if a.fps else None)
    configs = [cfg]
    if a.protocol:
        from .protocols import load_protocol
        from .run.protocol_sweep import RUN_OPTIONS, protocol_sweeps

        protocol = load_protocol(a.protocol)
        configs = protocol_sweeps(protocol, cfg, {RUN_OPTIONS[o] for o in _given(a.argv, "run") if o in RUN_OPTIONS})
        print(f"protocol {protocol.label}: {protocol.title}", file=sys.stderr)
        for note in configs[0].protocol["overrides"]:
            print(f"protocol {protocol.name}: {note}", file=sys.stderr)
    failed = False
    for c in configs:
        s = sweep(c, argv=sys.argv, log=lambda m: print(m, file=sys.stderr))
        counts = ", ".join(f"{n} {k}" for k, n in sorted(s.statuses.items())) or "nothing new"
        print(f"run {s.run_id}: {counts}; {s.skipped} already stored; "
              f"{s.encodes_per_target:.2f} encodes per target; {s.wall_s:.1f} s; store {s.store}")
        failed |= bool(s.statuses.get("failed"))
    from .report.text import text_report

    print(text_report(s.store, None))
    return 3 if failed else 0


def cmd_report(a) -> int:
    from .paths import reports_dir, store_location
    from .report.gifs import GifSettings
    from .report.html import ReportOptions, build_report, parse_ranges
    from .report.targets import check_tolerance
    from .report.text import text_report

    store = store_location(a.store).path
    print(text_report(store, a.suite, a.ladder_metric, check_tolerance(a.match_tolerance)))
    if a.text:
        return 0
    if a.gif_width < 16 or a.gif_width % 2:
        raise BenchError(f"--gif-width {a.gif_width}: must be an even number of pixels, at least 16")
    if (a.gif_fps is not None and a.gif_fps <= 0) or (a.gif_frames is not None and a.gif_frames < 1):
        raise BenchError("--gif-fps and --gif-frames must be positive")
    opts = ReportOptions(output=a.output or reports_dir() / "html", suite=a.suite, anchor=a.anchor,
                         ranges=parse_ranges(a.ranges), gif=GifSettings(a.gif_width, a.gif_fps, a.gif_frames),
                         gifs=not a.no_gifs, log=lambda m: print(m, file=sys.stderr), ladder_metric=a.ladder_metric,
                         match_tolerance=a.match_tolerance, **({"jobs": max(1, a.jobs)} if a.jobs else {}))
    from .report.protocol_defaults import with_protocol

    opts = with_protocol(opts, store, _given(a.argv, "report"))
    index = build_report(store, opts)
    print(f"report: {index.resolve()}")
    if a.open:
        import webbrowser

        webbrowser.open(index.resolve().as_uri())
    return 0


def cmd_fetch(a) -> int:
    from .suites import get_suite
    from .suites.fetch import fetch_suite

    fetch_suite(get_suite(a.suite), a.source, progress=not a.no_progress)
    return 0


def cmd_list(a) -> int:
    if a.what == "codecs":
        import time

        from .codecs import CODECS
        from .codecs.agreement import round_trip

        for n in CODECS.names():
            origin = "" if CODECS.origin(n) == "built in" else f" ({CODECS.origin(n)})"
            try:
                c = CODECS.get(n)()
            except BenchError as exc:
                print(f"{n:10s}{origin}\n{'':10s} UNAVAILABLE: {exc}")
                continue
            try:
                c.check_available()
                state = c.version()
            except BenchError as exc:
                state = f"UNAVAILABLE: {exc}"
            else:
                try:  # a learned codec: encode and decode a tiny clip, compare with the encoder's frames
                    checked = round_trip(c, time.monotonic() + 600)
                    state += f"\n{'':10s} coder round trip: {checked}" if checked else ""
                except BenchError as exc:
                    state += f"\n{'':10s} BROKEN: {exc}"
            k = c.knob
            print(f"{n:10s} knob {k.name} {k.lo:g}..{k.hi:g} ({'higher' if k.more_bits < 0 else 'lower'} = fewer bits)"
                  f"  {c.description}{origin}\n{'':10s} {state}")
    elif a.what == "protocols":
        from .protocols import builtin_names, load_protocol

        for n in builtin_names():
            pr = load_protocol(n)
            print(f"{pr.label:22s} {pr.title}\n{'':22s} source: {pr.source}")
    elif a.what == "suites":
        from .suites import builtin_names, get_suite

        for n in builtin_names():
            s = get_suite(n)
            total = s.total_bytes()
            if total:
                size = f"{total / 1e9:.1f} GB raw"
            elif s.sequences and all(q.path.exists() for q in s.sequences):
                size = f"{sum(q.path.stat().st_size for q in s.sequences) / 1e6:.1f} MB on disk"
            else:
                size = "size known after fetch"
            present = len(s.present())
            print(f"{n:8s} {len(s.sequences):3d} sequences, {size}, {present} present  {s.title}")
            for q in s.sequences:
                nb = q.source.get("bytes")
                print(f"         {q.name:16s} {q.width}x{q.height} {float(q.fps):g} fps "
                      f"{q.num_frames if q.num_frames else '?'} frames"
                      f"{f', {nb / 1e9:.2f} GB' if nb else ''}{'' if q.path.exists() else '  (not fetched)'}")
    else:
        from .metrics import METRICS

        for n in METRICS.names():
            m = METRICS.get(n)
            also = METRICS.aliases_of(n)
            print(f"{n:10s} (per {m.scope}) {m.description}{f'  [also: {chr(44).join(also)}]' if also else ''}")
            for o in m.outputs:
                print(f"    {o.name:14s} {o.direction} is better  unit: {o.unit or '-'}  {o.description}")
    return 0


def cmd_results(a) -> int:
    from .paths import store_location
    from .results.tables import export

    text = export(store_location(a.store).path, a.format, a.output)
    if text is not None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def cmd_import(a) -> int:
    from .paths import store_location
    from .results.importers import import_dcvc_json

    codec = a.codec or a.file.stem
    n = import_dcvc_json(a.file, codec, store_location(a.store).path)
    print(f"imported {n} rate points of {codec!r} from {a.file} (bits_source = published)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    a = parser.parse_args(argv)
    a.argv = sys.argv[1:] if argv is None else argv
    try:
        return {"run": cmd_run, "report": cmd_report, "fetch": cmd_fetch, "list": cmd_list,
                "results": cmd_results, "import": cmd_import}[a.command](a)
    except BenchError as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted (finished results are stored)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
