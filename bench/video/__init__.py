"""Video I/O: YUV 4:2:0 frames, raw YUV and Y4M files, anything ffmpeg reads; BT.709 colour."""
from .frames import Frame, VideoFormat
from .open import open_video, probe_video, write_video

__all__ = ["Frame", "VideoFormat", "open_video", "probe_video", "write_video"]
