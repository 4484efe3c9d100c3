import numpy as np
import pytest

from bench.errors import InputError
from bench.video import VideoFormat, open_video, write_video
from bench.video.color import rgb_to_yuv420, yuv420_to_rgb
from bench.video.yuv import RawYuvReader, guess_from_name
from conftest import random_frame, shared_clip


@pytest.mark.parametrize("bits", [8, 10])
@pytest.mark.parametrize("size", [(64, 48), (33, 17), (176, 144)])
@pytest.mark.parametrize("ext", [".yuv", ".y4m"])
def test_round_trip(tmp_path, bits, size, ext):
    w, h = size
    frames = [random_frame(w, h, bits, seed=i) for i in range(3)]
    path = tmp_path / f"clip_{w}x{h}{ext}"
    assert write_video(path, frames, fps=25) == 3
    r = open_video(path, width=w, height=h, bit_depth=bits)
    assert (r.format.width, r.format.height, r.format.bit_depth, r.num_frames) == (w, h, bits, 3)
    back = list(r)
    for a, b in zip(frames, back):
        for pa, pb in zip(a.planes, b.planes):
            np.testing.assert_array_equal(pa, pb)
    assert [f.y[0, 0] for f in r.frames(start=1, step=1)] == [frames[1].y[0, 0], frames[2].y[0, 0]]


def test_frames_stream_lazily(tmp_path):
    frames = [random_frame(64, 64, seed=i) for i in range(4)]
    path = tmp_path / "a_64x64.yuv"
    write_video(path, frames)
    it = open_video(path).frames()
    first = next(it)
    np.testing.assert_array_equal(first.y, frames[0].y)


def test_truncated_yuv_names_file_and_problem(tmp_path):
    path = tmp_path / "bad_64x48.yuv"
    write_video(path, [random_frame(64, 48)])
    with open(path, "ab") as f:
        f.write(b"\0" * 100)
    with pytest.raises(InputError, match=r"bad_64x48.yuv: .*not a whole number"):
        open_video(path)


def test_wrong_size_is_caught(tmp_path):
    path = tmp_path / "clip.yuv"
    write_video(path, [random_frame(64, 48)], bit_depth=None)
    with pytest.raises(InputError, match="not a whole number"):
        RawYuvReader(path, VideoFormat(60, 48))
    with pytest.raises(InputError, match="needs a frame size"):
        open_video(path)


def test_truncated_y4m(tmp_path):
    path = tmp_path / "t.y4m"
    write_video(path, [random_frame(32, 32), random_frame(32, 32)])
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(InputError, match="frame 1 is truncated"):
        open_video(path)


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("hello")
    with pytest.raises(InputError, match="notes.mp4"):
        open_video(path)


def test_name_guess():
    g = guess_from_name("RaceHorses_832x480_30Hz_8bit_P420.yuv")
    assert (g["width"], g["height"], g["fps"], g["bit_depth"]) == (832, 480, 30, 8)
    assert guess_from_name("Beauty_1920x1080_120fps_420_10bit_YUV.yuv")["bit_depth"] == 10


def test_real_raw_clips():
    r = open_video(shared_clip("compressai_C_RaceHorses_2frames_832x480_30Hz_8bit_P420.yuv"))
    assert (r.format.width, r.format.height, r.num_frames) == (832, 480, 2)
    r = open_video(shared_clip("rav1e_small_input.y4m"))
    assert (r.format.width, r.format.height, r.num_frames) == (64, 64, 5)
    r = open_video(shared_clip("libvpl_cars_320x240.i420"))
    assert r.num_frames == 30
    h265 = open_video(shared_clip("libvpl_cars_320x240.h265"))
    assert (h265.format.width, h265.format.height) == (320, 240)
    assert len(list(h265.frames(count=3))) == 3


def test_mp4_round_trip_is_lossless(tmp_path):
    frames = [random_frame(64, 48, seed=i) for i in range(3)]
    path = tmp_path / "clip.mp4"
    write_video(path, frames, fps=10)
    back = list(open_video(path))
    assert len(back) == 3
    np.testing.assert_array_equal(back[2].y, frames[2].y)


def test_demo_clip_reads_with_ffmpeg():
    from bench.suites import get_suite

    seq = get_suite("demo").select(["bikes"])[0]
    r = open_video(seq.path)
    assert (r.format.width, r.format.height) == (640, 272)
    f = next(r.frames())
    assert f.y.shape == (272, 640) and f.u.shape == (136, 320)


def test_colour_round_trip_bt709():
    rng = np.random.default_rng(1)
    rgb = np.repeat(np.repeat(rng.random((8, 8, 3)), 2, 0), 2, 1)  # constant 2x2 blocks: no chroma loss
    y, u, v = rgb_to_yuv420(rgb)
    back = yuv420_to_rgb(y, u, v)
    assert np.abs(back - rgb).max() < 2.5 / 219  # 8-bit quantisation only
    y10, u10, v10 = rgb_to_yuv420(rgb, 10)
    assert np.abs(yuv420_to_rgb(y10, u10, v10, 10) - rgb).max() < 0.6 / 219


def test_bit_depth_requantisation():
    f = random_frame(8, 8, 10)
    f8 = f.to_bit_depth(8)
    assert f8.y.dtype == np.uint8
    np.testing.assert_array_equal(f8.y, np.minimum((f.y.astype(int) + 2) >> 2, 255))
    assert f8.to_bit_depth(10).y.max() <= 1020
