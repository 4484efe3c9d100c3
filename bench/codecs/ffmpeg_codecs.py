"""The codecs every user has, through the ffmpeg inside the imageio-ffmpeg wheel.

Test conditions follow the learned-video-coding papers' low-delay setting: one intra frame at the
start (no periodic or scene-cut intra refresh), no frame reordering (no B-frames for x264/x265,
low-delay prediction structures for VVenC and SVT-AV1), constant QP/CRF as the swept knob.
Bitstreams are raw elementary streams (Annex B for H.264/HEVC/VVC, low-overhead OBU for AV1), so
the file size counts no container overhead.
"""
from __future__ import annotations

import time

from ..errors import CodecUnavailable
from ..suites.sequences import PreparedSequence
from ..tools import ffmpeg_encoders, ffmpeg_exe, ffmpeg_version, run_tool
from ..video import VideoFormat
from .base import Bitstream, Codec, Decoded, Knob
from .scaled import SCALE_OPTIONS, coded_sequence, key_options, scale_meta, upscaled

NO_INTRA_REFRESH_GOP = 1_000_000
# x264 writes its version and every option into an SEI message (about 560 bytes), which no decoder
# needs: at 0.001 bpp that is more than a small sequence's whole budget, so it is cut from the stream
# (x265 has an option for it, ``info=0``)
STRIP_SEI = {"h264": ["-bsf:v", "filter_units=remove_types=6"]}


class FfmpegCodec(Codec):
    encoder: str = ""
    muxer: str = ""
    ext: str = ""
    option_defaults = {"preset": "medium", "threads": 1, "params": "", **SCALE_OPTIONS}
    size_multiple = 2  # of the coded size at a scale below 1 (4:2:0)

    def version(self) -> str:
        return f"{self.encoder} (ffmpeg {ffmpeg_version()})"

    def check_available(self) -> None:
        if self.encoder not in ffmpeg_encoders():
            raise CodecUnavailable(f"codec {self.name}: {ffmpeg_exe()} has no {self.encoder} encoder "
                                   f"(pip install imageio-ffmpeg, or set BENCH_FFMPEG to an ffmpeg built with it)")

    def encoder_args(self, seq: PreparedSequence, knob: float) -> list[str]:
        raise NotImplementedError

    def coded_bit_depth(self, seq: PreparedSequence) -> int:
        return seq.format.bit_depth

    def config(self) -> dict:
        return {**super().config(), "options": dict(sorted(key_options(self.options).items()))}

    def encode(self, seq, knob, workdir, deadline=None) -> Bitstream:
        source, seq = seq, coded_sequence(seq, self.options, self.size_multiple, deadline)
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / f"{self.name}_{self.knob.name}{knob:g}.{self.ext}"
        fps = seq.fps
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", seq.format.pix_fmt, "-s", f"{seq.width}x{seq.height}",
               "-r", f"{fps.numerator}/{fps.denominator}", "-i", str(seq.yuv),
               "-frames:v", str(seq.num_frames), "-an", *self.encoder_args(seq, knob),
               "-f", self.muxer, str(out)]
        t0 = time.perf_counter()
        res = run_tool(cmd, deadline=deadline, what=f"{self.name} encode")
        dt = time.perf_counter() - t0
        return Bitstream([out], knob, cmd, dt, log=(res.stderr or b"").decode("utf-8", "replace")[-4000:],
                         meta=scale_meta(source, seq, self.options))

    def decode(self, bitstream, seq, workdir, deadline=None) -> Decoded:
        source, seq = seq, coded_sequence(seq, self.options, self.size_multiple, deadline)
        fmt = VideoFormat(seq.width, seq.height, self.coded_bit_depth(seq))
        workdir.mkdir(parents=True, exist_ok=True)
        out = workdir / (bitstream.files[0].stem + "_dec.yuv")
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-f", self.muxer,
               "-i", str(bitstream.files[0]), "-f", "rawvideo", "-pix_fmt", fmt.pix_fmt, "-fps_mode", "passthrough",
               str(out)]
        t0 = time.perf_counter()
        run_tool(cmd, deadline=deadline, what=f"{self.name} decode")
        return upscaled(Decoded(out, fmt, cmd, time.perf_counter() - t0), source, self.options, deadline)

    def _extra(self) -> list[str]:
        return [p for p in self.options["params"].split(":") if p]


class X264(FfmpegCodec):
    name = "x264"
    description = "H.264/AVC, libx264: constant QP, one I-frame, no B-frames"
    encoder, muxer, ext = "libx264", "h264", "264"
    knob = Knob("qp", 0, 69, start=45)

    def encoder_args(self, seq, knob):
        params = ["keyint=infinite", "scenecut=0", "bframes=0", f"threads={self.options['threads']}",
                  *self._extra()]
        return ["-c:v", "libx264", "-preset", self.options["preset"], "-qp", str(int(knob)),
                "-x264-params", ":".join(params), *STRIP_SEI["h264"]]


class X265(FfmpegCodec):
    name = "x265"
    description = "H.265/HEVC, libx265: constant QP, one I-frame, no B-frames"
    encoder, muxer, ext = "libx265", "hevc", "265"
    knob = Knob("qp", 0, 51, start=40)

    def encoder_args(self, seq, knob):
        t = self.options["threads"]
        params = [f"qp={int(knob)}", "info=0", "keyint=-1", "scenecut=0", "bframes=0", "open-gop=0",
                  f"pools={t}", "frame-threads=1" if t == 1 else f"frame-threads={min(t, 4)}",
                  "log-level=error", *self._extra()]
        return ["-c:v", "libx265", "-preset", self.options["preset"], "-x265-params", ":".join(params)]


class VVenC(FfmpegCodec):
    name = "vvenc"
    description = "H.266/VVC, Fraunhofer VVenC: constant QP, low-delay GOP without reordering, one I-frame"
    encoder, muxer, ext = "libvvenc", "vvc", "266"
    knob = Knob("qp", 0, 63, start=45)
    option_defaults = {"preset": "faster", "threads": 1, "params": "", "qpa": 0, **SCALE_OPTIONS}
    size_multiple = 8  # VVC's minimum coding block

    def coded_bit_depth(self, seq):
        return 10  # libvvenc codes 10 bit only; the harness requantises the decoded frames

    def encoder_args(self, seq, knob):
        params = ["PicReordering=0", "GOPSize=8", "DecodingRefreshType=none", f"threads={self.options['threads']}",
                  *self._extra()]
        return ["-c:v", "libvvenc", "-preset", self.options["preset"], "-qp", str(int(knob)),
                "-qpa", str(int(self.options["qpa"])), "-period", str(NO_INTRA_REFRESH_GOP),
                "-vvenc-params", ":".join(params)]


class SvtAv1(FfmpegCodec):
    name = "svt-av1"
    description = "AV1, SVT-AV1: CRF (constant QP), low-delay prediction structure, one key frame"
    encoder, muxer, ext = "libsvtav1", "obu", "obu"
    knob = Knob("crf", 1, 63, start=50)
    option_defaults = {"preset": "8", "threads": 1, "params": "", **SCALE_OPTIONS}

    def encoder_args(self, seq, knob):
        params = ["keyint=-1", "pred-struct=1", "scd=0", f"lp={self.options['threads']}", *self._extra()]
        return ["-c:v", "libsvtav1", "-preset", str(self.options["preset"]), "-crf", str(int(knob)),
                "-svtav1-params", ":".join(params)]


class AomAv1(FfmpegCodec):
    name = "aom-av1"
    description = "AV1, libaom: CRF with -b:v 0 (constant quality), no lag (low delay), one key frame"
    encoder, muxer, ext = "libaom-av1", "obu", "obu"
    knob = Knob("crf", 0, 63, start=50)
    option_defaults = {"preset": "6", "threads": 1, "params": "", **SCALE_OPTIONS}

    def encoder_args(self, seq, knob):
        return ["-c:v", "libaom-av1", "-cpu-used", str(self.options["preset"]), "-crf", str(int(knob)),
                "-b:v", "0", "-lag-in-frames", "0", "-g", str(NO_INTRA_REFRESH_GOP), "-keyint_min",
                str(NO_INTRA_REFRESH_GOP), "-threads", str(self.options["threads"]), "-row-mt", "0",
                *(["-aom-params", self.options["params"]] if self.options["params"] else [])]
