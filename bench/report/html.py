"""``bench report``: the static HTML report built from the results store.

One folder (default ``reports/html/``) that opens from disk or can be served as it is:

* ``index.html``: what was compared (suites, sequences, codecs with their versions and settings,
  metrics with their weights, every run's command line and environment), the anchor and why, BD-rate
  tables per suite, suite-average RD curves, and the GIF table of every sequence: rows grouped by
  bitrate range, columns ground truth | each codec.
* one page per sequence: its RD curves, its BD-rate table (overlap and shared bpp range in every
  cell), its GIF table, ground truth beside each reconstruction and a zoomed crop of both,
  per-frame metric plots, and every stored row (failures with their error).
* ``media/``: PNG and SVG plots, GIFs (:mod:`bench.report.gifs`), named by result keys and settings so a
  rebuilt report reuses what is already made. Every file is written whole (temporary name, rename);
  two reports building into one folder at once make each GIF once (the second waits and reuses it).

A GIF cell shows, for each codec, the reconstruction whose achieved bpp lies in the range (the one
nearest the range's geometric centre) or, when none does, the nearest one in log-bpp, marked as
outside the range. Reconstructions are re-decoded from the kept bitstreams (:mod:`bench.report.reconstruct`)
and checked against the stored PSNR-Y. Every name and value on the pages goes through Jinja2's
autoescaping: a codec called ``<script>`` is shown as text.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import shlex
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from .. import __version__
from ..errors import BenchError, InputError
from ..files import atomic_write, file_lock, lock_file_of, make_once
from ..hashing import identity_hash
from ..metrics import all_outputs, metric_class, metric_names
from ..results.row import ResultRow, is_import_run
from ..results.store import Store
from ..results.tables import name_estimated, to_frame
from .bd_tables import choose_anchor, sequence_table, suite_table
from .frame_plots import draw_per_frame
from .gifs import GifSettings, make_gifs
from .hull import DEFAULT_METRIC, TAG, with_ladders
from .targets import DEFAULT_TOLERANCE, MEASURED, mark_off_target
from .paper_tables import write_paper_tables
from .rd_curves import draw, sequences_note, suite_average
from .reconstruct import NotReconstructible, prepared_source, redecode

DEFAULT_RANGES = ((0.001, 0.003), (0.003, 0.008), (0.008, 0.02))
BD_OUTPUTS_FIRST = ("psnr_yuv", "psnr_y", "ms_ssim_rgb", "ms_ssim_y", "lpips", "dists", "vmaf")


def parse_ranges(text: str | None) -> tuple[tuple[float, float], ...]:
    """``"0.001-0.003,0.003-0.008"`` -> ((0.001, 0.003), (0.003, 0.008))."""
    if not text:
        return DEFAULT_RANGES
    out = []
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            a, b = float(lo), float(hi)
        except ValueError:
            raise InputError(f"--ranges {text!r}: expected LOW-HIGH pairs, e.g. 0.001-0.003,0.003-0.008") from None
        if not sep or not 0 < a < b:
            raise InputError(f"--ranges {text!r}: each range needs 0 < LOW < HIGH")
        out.append((a, b))
    return tuple(out)


def slug(text: str) -> str:
    """A file-name-safe, collision-free name for any text."""
    base = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")[:40] or "x"
    return f"{base}-{identity_hash(str(text), 6)}"


def range_label(r: tuple[float, float]) -> str:
    return f"{r[0]:g}–{r[1]:g} bpp"


@dataclass
class ReportOptions:
    output: Path
    suite: str | None = None
    anchor: str | None = None
    ranges: tuple[tuple[float, float], ...] = DEFAULT_RANGES
    gif: GifSettings = field(default_factory=GifSettings)
    gifs: bool = True
    log: Callable[[str], None] = print
    protocol: dict | None = None  # the protocol the runs followed (report.protocol_defaults)
    ladder_metric: str = DEFAULT_METRIC  # picks a resolution ladder's rung at each target (hull)
    jobs: int = field(default_factory=lambda: min(4, os.cpu_count() or 1))  # rows whose GIFs are made at once
    match_tolerance: float = DEFAULT_TOLERANCE  # ok rows further from their target are off-target (report.targets)


@dataclass
class Cell:
    """One codec's entry in a GIF table row."""

    codec: str
    row: dict | None = None
    in_range: bool = False
    media: dict = field(default_factory=dict)  # rec / sbs / zoom -> relative path
    note: str = ""

    @property
    def bpp(self) -> float | None:
        return None if self.row is None else self.row.get("bpp")


def pick(rows: list[dict], lo: float, hi: float) -> tuple[dict | None, bool]:
    """The row shown for range [lo, hi]: in range and nearest its geometric centre, else the
    nearest in log-bpp (then ``in_range`` is False)."""
    best, best_d, inside = None, math.inf, False
    centre = math.log(math.sqrt(lo * hi))
    for r in rows:
        b = r.get("bpp")
        if b is None or not b > 0:
            continue
        lb = math.log(b)
        if lo <= b <= hi:
            d = abs(lb - centre) - 1e6  # any point inside beats every point outside
        else:
            d = min(abs(lb - math.log(lo)), abs(lb - math.log(hi)))
        if d < best_d or (d == best_d and best is not None and b < best["bpp"]):
            best, best_d, inside = r, d, lo <= b <= hi
    return best, inside


def _records(df: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in df.to_dict("records")]


class ReportBuilder:
    def __init__(self, store_path: str | Path, opts: ReportOptions):
        self.store_path = Path(store_path)
        self.opts = opts
        self.out = Path(opts.output)
        self.media = self.out / "media"
        self.tag = opts.gif.tag()
        self._sources: dict[str, object] = {}
        self.meta = all_outputs()
        self.scopes = {o.name: metric_class(n).scope for n in metric_names() for o in metric_class(n).outputs}
        self.stats = {"gifs_made": 0, "gifs_reused": 0, "not_shown": 0}
        self._stats_lock = threading.Lock()

    # --- entry point --------------------------------------------------------------------------
    def build(self) -> Path:
        with Store(self.store_path, readonly=True) as st:
            runs, rows = st.runs(), st.results()
        self.rows = {r.key: r for r in rows}
        df = name_estimated(to_frame(rows, per_frame=True))
        if self.opts.suite and len(df):
            df = df[df["suite"] == self.opts.suite]
        if not len(df):
            where = f" for suite {self.opts.suite!r}" if self.opts.suite else ""
            raise InputError(f"{self.store_path}: no results stored{where} (run `bench run` first)")
        df = with_ladders(mark_off_target(df, self.opts.match_tolerance), self.opts.ladder_metric)
        self.out.mkdir(parents=True, exist_ok=True)
        self.media.mkdir(exist_ok=True)
        present = [o for o in self.meta if o in df and df[o].notna().any()]
        self.outputs = [o for o in BD_OUTPUTS_FIRST if o in present] + [o for o in present if o not in BD_OUTPUTS_FIRST]
        codecs = sorted(df["codec"].unique())
        self.anchor, self.anchor_reason = choose_anchor(codecs, self.opts.anchor)
        suites = [self._suite(name, g) for name, g in df.groupby("suite", sort=True)]
        ctx = {"title": "bench report", "suites": suites, "anchor": self.anchor, "anchor_reason": self.anchor_reason,
               "runs": self._runs(runs, df), "codecs": self._codecs(df), "metrics": self._metrics(df),
               "ranges": [range_label(r) for r in self.opts.ranges], "gif": self.opts.gif,
               "generated": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
               "store": str(self.store_path.resolve()), "version": __version__, "protocol": self.opts.protocol}
        index = self.out / "index.html"
        self._render("index.html.j2", index, ctx)
        st = self.stats
        self.opts.log(f"report: {st['gifs_made']} GIFs made, {st['gifs_reused']} reused, "
                      f"{st['not_shown']} reconstructions could not be shown")
        return index

    # --- one suite ----------------------------------------------------------------------------
    def _suite(self, name: str, df: pd.DataFrame) -> dict:
        self.opts.log(f"report: suite {name}")
        sdir = self.media / slug(name)
        outputs = [o for o in self.outputs if df[o].notna().any()]
        seq_pages, per_seq_bd, gif_rows = [], {}, {r: [] for r in self.opts.ranges}
        for seq, g in df.groupby("sequence", sort=True):
            page = self._sequence(name, seq, g, outputs)
            seq_pages.append(page)
            per_seq_bd[seq] = page["bd_raw"]
            for r, cells in page["gif_rows"]:
                gif_rows[r].append({"sequence": seq, "href": page["file"], "gt": page["gt"], "cells": cells})
        rd = []
        for out in outputs:
            cur = suite_average(df, out)
            if len(cur):
                png, svg, pdf = draw(cur, out, f"{name}: suite average{sequences_note(cur)}", sdir / f"rd-{slug(out)}")
                rd.append({"output": out, "png": self._rel(png), "svg": self._rel(svg), "pdf": self._rel(pdf)})
        bd_suite = suite_table(per_seq_bd) if self.anchor else {}
        tables = write_paper_tables(self.out / "tables", name, df, per_seq_bd, bd_suite, self.anchor, outputs)
        return {"name": name, "sequences": seq_pages, "rd": rd, "outputs": outputs,
                "tables": [self._rel(p) for p in tables],
                "codecs": sorted(df["codec"].unique()),
                "bd": self._bd_rows(bd_suite, outputs, suite=True),
                "gif_rows": [(range_label(r), rows) for r, rows in gif_rows.items()],
                "failed": _records(df[df["status"] == "failed"][["codec", "sequence", "target_bpp", "error"]])}

    # --- one sequence -------------------------------------------------------------------------
    def _sequence(self, suite: str, seq: str, df: pd.DataFrame, outputs: list[str]) -> dict:
        name = f"{slug(suite)}--{slug(seq)}"
        sdir = self.media / name
        outputs = [o for o in outputs if df[o].notna().any()]
        rd = []
        for out in outputs:
            pts = df[df["status"].isin(MEASURED) & df[out].notna() & df["bpp"].notna()]
            if len(pts):
                cur = pts[["codec", "bits_source", "bpp", "rung", out]].rename(columns={out: "value"})
                png, svg, pdf = draw(cur, out, f"{suite}/{seq}", sdir / f"rd-{slug(out)}")
                rd.append({"output": out, "png": self._rel(png), "svg": self._rel(svg), "pdf": self._rel(pdf)})
        bd_raw = sequence_table(df, self.anchor, outputs) if self.anchor else {}
        rows = _records(df)
        codecs = sorted(df["codec"].unique())
        gt = self._ground_truth(rows)
        gif_rows = []
        for r in self.opts.ranges:
            cells = []
            for c in codecs:
                cand = [x for x in rows if x["codec"] == c and x["status"] in MEASURED]
                row, inside = pick(cand, *r)
                cells.append(Cell(c, row, inside))
            gif_rows.append((r, cells))
        self._fill_media([cell for _, cells in gif_rows for cell in cells if cell.row is not None])
        frame_plots = self._frame_plots(suite, seq, gif_rows, outputs, sdir)
        views, seen = [], set()  # each reconstruction once, under the first range that shows it
        for r, cells in gif_rows:
            new = [c for c in cells if c.media.get("sbs") and c.row["key"] not in seen]
            seen |= {c.row["key"] for c in new}
            views.append((range_label(r), new))
        sizes = sorted({(x["width"], x["height"], x["frames"]) for x in rows if x.get("width")},
                       key=lambda t: tuple(v or 0 for v in t))
        page = {"suite": suite, "name": seq, "file": f"{name}.html", "gt": gt, "rd": rd,
                "bd": self._bd_rows(bd_raw, outputs), "bd_raw": bd_raw, "codecs": codecs,
                "gif_rows": gif_rows, "gif_rows_labelled": [(range_label(r), cells) for r, cells in gif_rows],
                "frame_plots": frame_plots, "rows": rows, "views": views, "outputs": outputs,
                "sizes": [f"{w}x{h}" + (f", {n} frames" if n else "") for w, h, n in sizes]}
        ctx = {"title": f"{suite}/{seq}", "page": page, "anchor": self.anchor, "anchor_reason": self.anchor_reason,
               "gif": self.opts.gif, "version": __version__}
        self._render("sequence.html.j2", self.out / page["file"], ctx)
        return page

    # --- media --------------------------------------------------------------------------------
    def _source(self, desc: dict | None):
        """The prepared source of a sequence description, or the reason there is none (cached)."""
        key = (desc or {}).get("key", "")
        if key not in self._sources:
            try:
                self._sources[key] = prepared_source(desc or {})
            except NotReconstructible as exc:
                self._sources[key] = str(exc)
        return self._sources[key]

    def _ground_truth(self, rows: list[dict]) -> dict:
        local = [x for x in rows if (x.get("config") or {}).get("sequence")]
        if not local:
            return {"gif": None, "note": "no local run of this sequence (imported results only)"}
        keys = pd.Series([x["config"]["sequence"]["key"] for x in local]).value_counts()
        desc = next(x["config"]["sequence"] for x in local if x["config"]["sequence"]["key"] == keys.index[0])
        if not self.opts.gifs:
            return {"gif": None, "note": "GIFs not made (--no-gifs)"}
        src = self._source(desc)
        if isinstance(src, str):
            return {"gif": None, "note": src}
        path = self.media / "gif" / f"gt-{desc['key']}-{self.tag}.gif"
        made = []
        try:
            make_once(path, lambda tmp: made.append(make_gifs((src.yuv, src.format), src.fps, self.opts.gif,
                                                              {"gt": tmp})))
        except BenchError as exc:
            return {"gif": None, "note": f"GIF failed: {exc}"}
        self.stats["gifs_made" if made else "gifs_reused"] += 1
        return {"gif": self._rel(path), "note": f"{src.width}x{src.height}, {src.num_frames} frames",
                "bpp": None}

    def _fill_media(self, cells: list[Cell]) -> None:
        """:meth:`_cell_media` for every cell: each row's GIFs made once, up to ``opts.jobs`` rows at
        a time (each is a decoder and an ffmpeg process: threads are enough)."""
        first: dict[str, Cell] = {}
        for cell in cells:
            first.setdefault(cell.row["key"], cell)
        with ThreadPoolExecutor(max(1, min(self.opts.jobs, len(first)))) as pool:
            list(pool.map(self._cell_media, first.values()))
        for cell in cells:
            if cell is not first[cell.row["key"]]:
                self._cell_media(cell)  # its GIFs are there now: reused

    def _count(self, what: str, n: int = 1) -> None:
        with self._stats_lock:
            self.stats[what] += n

    def _cell_media(self, cell: Cell) -> None:
        row = cell.row
        if row.get("bits_source") == "published" or not row.get("bitstream"):
            cell.note = "published numbers: no reconstruction" if row.get("bits_source") == "published" \
                else "no bitstream kept"
            return
        if not self.opts.gifs:
            cell.note = "GIFs not made (--no-gifs)"
            return
        stem = self.media / "gif" / f"{row['key']}-{self.tag}"
        paths = {n: stem.with_name(f"{stem.name}-{n}.gif") for n in ("rec", "sbs", "zoom")}
        sidecar = stem.with_name(stem.name + ".json")  # written last, once the GIFs are all there

        def there() -> bool:
            return sidecar.exists() and all(p.exists() for p in paths.values())

        info = None
        if not there():
            with file_lock(lock_file_of(sidecar)):  # another report may be making them: wait for it
                if not there():
                    info = self._make_row_gifs(self.rows[row["key"]], paths)
                    if info.get("error") is None:
                        atomic_write(sidecar, json.dumps(info))
        if info is None:
            info = json.loads(sidecar.read_text())
            self._count("gifs_reused", len(paths))
        if info.get("error"):
            cell.note = info["error"]
            self._count("not_shown")
            return
        cell.media = {n: self._rel(p) for n, p in paths.items()}
        if info.get("matches") is False:
            cell.note = (f"re-decoded frames differ from what was measured (PSNR-Y {info['psnr_y']:.3f} dB, "
                         f"stored {info['stored_psnr_y']:.3f} dB)")

    def _make_row_gifs(self, row: ResultRow, paths: dict[str, Path]) -> dict:
        src = self._source((row.config or {}).get("sequence"))
        if isinstance(src, str):
            return {"error": src}
        work = Path(tempfile.mkdtemp(prefix="redecode-", dir=self.out))
        try:
            rec = redecode(row, src, self.store_path, work)
            make_gifs((src.yuv, src.format), src.fps, self.opts.gif, paths,
                      reconstruction=(rec.decoded.path, rec.decoded.format))
            self._count("gifs_made", len(paths))
            return {"error": None, "matches": rec.matches, "psnr_y": rec.psnr_y, "stored_psnr_y": rec.stored_psnr_y}
        except NotReconstructible as exc:
            return {"error": str(exc)}
        except BenchError as exc:
            return {"error": f"GIF failed: {exc}"}
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _frame_plots(self, suite, seq, gif_rows, outputs, sdir) -> list[dict]:
        plots = []
        for out in outputs:
            if out not in self.meta or self._scope(out) != "frame":
                continue
            panels, any_line = [], False
            for r, cells in gif_rows:
                lines = []
                for c in cells:
                    vals = ((c.row or {}).get(f"frames.{out}") if c.row else None)
                    if isinstance(vals, list) and vals:
                        lines.append((f"{c.codec} @ {c.bpp:.4g} bpp", vals))
                any_line |= bool(lines)
                panels.append((range_label(r), lines))
            if any_line:
                p = draw_per_frame(panels, out, f"{suite}/{seq}: {out} per frame", sdir / f"frames-{slug(out)}.png")
                plots.append({"output": out, "png": self._rel(p)})
        return plots

    def _scope(self, output: str) -> str:
        return self.scopes.get(output, "frame")

    # --- tables -------------------------------------------------------------------------------
    def _bd_rows(self, table: dict, outputs: list[str], suite: bool = False) -> dict:
        cols = [o for o in BD_OUTPUTS_FIRST if o in outputs] + [o for o in outputs if o not in BD_OUTPUTS_FIRST]
        cols = [o for o in cols if any(k[1] == o for k in table)]
        rows = []
        for codec in sorted({k[0] for k in table}):
            cells = []
            for o in cols:
                r = table.get((codec, o))
                if r is None:
                    cells.append({"text": "–", "cls": "na", "detail": "no points"})
                elif suite:
                    cells.append({"text": r.text(), "cls": "ok" if r.reliable else "na",
                                  "detail": f"{r.reliable} of {r.sequences} sequences"})
                else:
                    rng = f"{r.bpp_range[0]:.4g}–{r.bpp_range[1]:.4g} bpp" if r.bpp_range else "no shared bpp range"
                    cls = "ok" if r.reliable else ("na" if math.isnan(r.value) else "weak")
                    cells.append({"text": r.cell(), "cls": cls,
                                  "detail": f"overlap {r.overlap:.0%}; {rng}; {r.anchor_points}/{r.test_points} points"})
            rows.append({"codec": codec, "cells": cells})
        return {"columns": [{"name": o, "direction": self.meta[o].direction if o in self.meta else "higher"}
                            for o in cols], "rows": rows}

    def _runs(self, runs: list[dict], df: pd.DataFrame) -> list[dict]:
        used = set(df["run_id"].dropna())
        out = []
        for r in runs:
            if r["run_id"] not in used:
                continue
            env = r.get("environment") or {}
            out.append({"id": r["run_id"], "started": _when(r.get("started")), "finished": _when(r.get("finished")),
                        "argv": shlex.join(["bench", *(r.get("argv") or [])[1:]]) if r.get("argv") else "",
                        "environment": env, "config": json.dumps(r.get("config") or {}, indent=1, default=str)})
        imported = sorted(u for u in used if is_import_run(u))
        for u in imported:
            g = df[df["run_id"] == u]
            cfg = g["config"].iloc[0] or {}
            out.append({"id": u, "started": "", "finished": "", "argv": f"bench import {cfg.get('imported_from', '')}",
                        "environment": {"sha256": cfg.get("sha256"), "format": cfg.get("format")}, "config": ""})
        return out

    def _codecs(self, df: pd.DataFrame) -> list[dict]:
        out = []
        for codec, g in df.groupby("codec", sort=True):
            counts = g["status"].value_counts().to_dict()
            local = g[g["config"].map(lambda c: bool((c or {}).get("codec")))]
            cfg = (local["config"].iloc[0] or {}).get("codec", {}) if len(local) else {}
            cmd = next((c for c in g["encode_cmd"] if isinstance(c, list) and c), None)
            opts = dict(cfg.get("options", {})) if cfg else {}
            if str(codec).endswith(TAG):  # a hull: its rows come from several rungs; say which
                for k in ("scale", "scale_filter", "frame_step"):
                    opts.pop(k, None)
                rungs = sorted({r for r in g["rung"] if isinstance(r, str)}, key=lambda r: (r != "", r))
                opts["rungs"] = ", ".join(r or "×1" for r in rungs)
            out.append({"name": codec, "version": cfg.get("version") or g["codec_version"].iloc[0],
                        "options": json.dumps(opts, sort_keys=True) if cfg else "",
                        "knob": g["knob_name"].dropna().iloc[0] if g["knob_name"].notna().any() else "",
                        "bits_source": ", ".join(sorted(g["bits_source"].dropna().unique())),
                        "counts": counts, "anchor": codec == self.anchor,
                        "command": shlex.join([Path(cmd[0]).name, *cmd[1:]]) if cmd else ""})
        return out

    def _metrics(self, df: pd.DataFrame) -> list[dict]:
        info: dict[str, dict] = {}
        for cfg in df["config"]:
            for name, m in ((cfg or {}).get("metric_info") or {}).items():
                info.setdefault(name, m)
        out = []
        for o in self.outputs:
            meta = self.meta[o]
            owner = next((n for n, m in info.items() if o in (m.get("outputs") or {})), None)
            weights = (info.get(owner) or {}).get("weights") or []
            out.append({"output": o, "direction": meta.direction, "unit": meta.unit, "description": meta.description,
                        "metric": owner or "", "weights": weights, "scope": self._scope(o)})
        return out

    # --- writing ------------------------------------------------------------------------------
    def _rel(self, p: Path) -> str:
        return Path(p).relative_to(self.out).as_posix()

    def _render(self, template: str, path: Path, ctx: dict) -> None:
        atomic_write(path, _environment().get_template(template).render(**ctx))


def _when(t: float | None) -> str:
    return _dt.datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds") if t else ""


def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("bench.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = _num
    env.filters["pct"] = lambda v: "" if v is None else f"{v * 100:+.1f}%"
    return env


def _num(v, digits: int = 4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (int, float)):
        return f"{v:.{digits}g}"
    return str(v)


def build_report(store_path: str | Path, opts: ReportOptions) -> Path:
    """Build the HTML report of ``store_path`` into ``opts.output``; returns the index page."""
    return ReportBuilder(store_path, opts).build()
