"""A live RTMP source on loopback: nginx's RTMP module fed by an FFmpeg test pattern.

Used by the demo, the end-to-end tests and the benchmarks, so that they all
pull a real stream (1 s keyframes, H.264 + AAC by default) the way a camera
would publish one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

NGINX_RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")

NGINX_CONFIG = """\
load_module {module};
daemon on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
worker_processes 1;
events {{ worker_connections 256; }}
rtmp {{
    server {{
        listen 127.0.0.1:{port};
        chunk_size 4096;
        application live {{
            live on;
            record off;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pattern_command(ffmpeg: str, url: str, video_codec: str = "libx264") -> list[str]:
    """A 720p25 test pattern with a 440 Hz tone, a keyframe every second."""
    audio = ["-c:a", "aac"] if video_codec == "libx264" else ["-c:a", "mp3"]
    return [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440",
        "-c:v",
        video_codec,
        *(
            ["-preset", "veryfast", "-tune", "zerolatency"]
            if video_codec == "libx264"
            else []
        ),
        "-g",
        "25",
        "-pix_fmt",
        "yuv420p",
        *audio,
        "-f",
        "flv",
        url,
    ]


@dataclass
class LoopbackRtmpServer:
    workdir: Path
    port: int = field(default_factory=free_port)

    def start(self) -> None:
        if not NGINX_RTMP_MODULE.exists():
            raise RuntimeError(
                "nginx's RTMP module is missing; install it with "
                "apt-get install nginx libnginx-mod-rtmp"
            )
        self.workdir.mkdir(parents=True, exist_ok=True)
        config = self.workdir / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(
                module=NGINX_RTMP_MODULE, prefix=self.workdir, port=self.port
            )
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        subprocess.run(
            [
                nginx,
                "-p",
                str(self.workdir),
                "-c",
                str(config),
                "-e",
                str(self.workdir / "error.log"),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        self._wait_listening()

    def stop(self) -> None:
        pid_file = self.workdir / "nginx.pid"
        if pid_file.exists():
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            subprocess.run(
                [
                    nginx,
                    "-p",
                    str(self.workdir),
                    "-c",
                    str(self.workdir / "nginx.conf"),
                    "-e",
                    str(self.workdir / "error.log"),
                    "-s",
                    "stop",
                ],
                check=False,
                stdin=subprocess.DEVNULL,
            )

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def _wait_listening(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"nginx-rtmp did not listen on 127.0.0.1:{self.port}")


@dataclass
class TestPattern:
    """An FFmpeg publishing a test pattern to an RTMP URL until stopped."""

    ffmpeg: str
    url: str
    video_codec: str = "libx264"
    process: subprocess.Popen[bytes] | None = None

    __test__ = False  # not a pytest test class

    def start(self) -> None:
        self.process = subprocess.Popen(
            pattern_command(self.ffmpeg, self.url, self.video_codec),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
