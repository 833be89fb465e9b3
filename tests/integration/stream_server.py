"""A tiny HTTP audio server for tests and the benchmark, run as its own process so it can be killed.

    python stream_server.py WAV_FILE PORT [--pace] [--loop] [--announce]

Serves the WAV file at any path. With --loop it becomes an endless stream (the header claims the
largest size, the PCM repeats); with --pace bytes leave at the audio's own byte rate, like a radio.
Prints "ready" once listening; with --announce also "sending <time.monotonic()> <chunk bytes>" when
a response starts sending PCM (a paced chunk k leaves at that time + k chunk durations).
"""

from __future__ import annotations

import argparse
import http.server
import struct
import sys
import time
from pathlib import Path

_CHUNK_S = 0.05


def _split_wav(data: bytes) -> tuple[bytes, bytes, int]:
    """Header up to the data chunk, PCM payload, byte rate."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    position = 12
    byte_rate = 0
    while position + 8 <= len(data):
        chunk_id, size = (
            data[position : position + 4],
            struct.unpack("<I", data[position + 4 : position + 8])[0],
        )
        if chunk_id == b"fmt ":
            byte_rate = struct.unpack("<I", data[position + 16 : position + 20])[0]
        if chunk_id == b"data":
            header = data[: position + 8]
            return header, data[position + 8 : position + 8 + size], byte_rate
        position += 8 + size + (size & 1)
    raise ValueError("WAV file without data chunk")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("wav", type=Path)
    parser.add_argument("port", type=int)
    parser.add_argument("--pace", action="store_true")
    parser.add_argument("--loop", action="store_true")
    parser.add_argument("--announce", action="store_true")
    args = parser.parse_args()
    header, pcm, byte_rate = _split_wav(args.wav.read_bytes())
    if args.loop:
        endless = bytearray(header)
        endless[4:8] = struct.pack("<I", 0x7FFFFF00)
        endless[-4:] = struct.pack("<I", 0x7FFFFF00)
        header = bytes(endless)
    chunk_bytes = max(2, int(byte_rate * _CHUNK_S) // 2 * 2)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "audio/wav")
            if not args.loop:
                self.send_header("Content-Length", str(len(header) + len(pcm)))
            self.end_headers()
            sent = 0
            try:
                self.wfile.write(header)
                started = time.monotonic()
                if args.announce:
                    print(f"sending {started:.6f} {chunk_bytes}", flush=True)
                while True:
                    for offset in range(0, len(pcm), chunk_bytes):
                        piece = pcm[offset : offset + chunk_bytes]
                        self.wfile.write(piece)
                        sent += len(piece)
                        if args.pace:
                            ahead = sent / byte_rate - (time.monotonic() - started)
                            if ahead > 0:
                                time.sleep(ahead)
                    if not args.loop:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *arguments: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
