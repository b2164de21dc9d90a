#!/usr/bin/env python3
"""A fake worker CLI that CAO's `mock_cli` provider takes for a real agent.

CAO 2.5.4 ships a provider for credential-free tests, `mock_cli`, that types
`mock_cli --delay-ms N` into a fresh shell and reads the pane stream:

- a line ending in `❯` means ready (IDLE, or COMPLETED once a `> MOCK:` reply
  line is in the buffer);
- no line ending in `❯` means PROCESSING.

The binary itself is not in the wheel (it lives in CAO's test tree), so this
script stands in for it. It behaves like CAO's description of it (prompt, read
a line, wait the delay, answer `> MOCK: <line>`, prompt again) and adds
controls for the benchmark, so the moment of a screen change is known exactly:

- a typed line starting with `hold` turns it busy until told otherwise;
- SIGUSR1: turn busy (the prompt line gets text after the `❯`, no new prompt);
- SIGUSR2: turn idle (answer line, then a fresh `❯` prompt).

CAO latches a ready status and only lets it fall back to PROCESSING after CAO
itself sent input, so a benchmark that wants CAO to see the busy screen sends
`hold` through CAO's input API and uses SIGUSR2 for the busy→idle edge.

With --control-dir it writes its pid to <control-dir>/<CAO_TERMINAL_ID>.pid so
the benchmark can find which process to signal for which CAO terminal.

Standard library only. Idle costs nothing: it blocks in select().
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time

PROMPT = "❯ "
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"


def write(text: str) -> None:
    # Terminal output: bytes straight to fd 1, no Python buffering in between.
    data = text.encode()  # the tty (onlcr) turns \n into \r\n
    while data:
        written = os.write(1, data)
        data = data[written:]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mock_cli", add_help=True)
    parser.add_argument("--delay-ms", type=int, default=50, help="answer delay for typed input")
    parser.add_argument("--control-dir", default=None, help="where to write <terminal id>.pid")
    # CAO may pass provider flags this stand-in does not need; ignore them.
    args, _unknown = parser.parse_known_args(argv)
    return args


def write_pid_file(control_dir: str | None) -> str | None:
    terminal_id = os.environ.get("CAO_TERMINAL_ID")
    if not control_dir or not terminal_id:
        return None
    os.makedirs(control_dir, exist_ok=True)
    path = os.path.join(control_dir, f"{terminal_id}.pid")
    temporary = f"{path}.tmp"
    with open(temporary, "w") as handle:
        handle.write(str(os.getpid()))
    os.replace(temporary, path)  # readers never see a half-written pid
    return path


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    # Signals wake the select() loop through a self-pipe; the handlers do nothing else.
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    for signum in (signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, lambda *_: None)
    pid_path = write_pid_file(args.control_dir)

    write("fake worker for the Codestrator footprint benchmark\n")
    write(PROMPT)
    busy = False
    pending = b""
    try:
        while True:
            readable, _, _ = select.select([0, wake_read], [], [])
            if wake_read in readable:
                for signum in os.read(wake_read, 512):
                    if signum == signal.SIGUSR1 and not busy:
                        busy = True
                        write("working on it …\n")
                    elif signum == signal.SIGUSR2 and busy:
                        busy = False
                        write("> MOCK: done\n")
                        write(PROMPT)
            if 0 in readable:
                chunk = os.read(0, 4096)
                if not chunk:
                    return 0
                pending += chunk
                while b"\n" in pending or b"\r" in pending:
                    cut = min(i for i in (pending.find(b"\n"), pending.find(b"\r")) if i >= 0)
                    raw, pending = pending[:cut].decode(errors="replace"), pending[cut + 1 :]
                    # CAO pastes with bracketed-paste markers; they are not part of the text.
                    line = raw.replace(PASTE_START, "").replace(PASTE_END, "").strip()
                    if not line:
                        continue
                    if line == "/exit":
                        return 0
                    if line.startswith("hold"):
                        busy = True
                        write("working on it …\n")
                        continue
                    time.sleep(args.delay_ms / 1000)
                    write(f"> MOCK: {line}\n")
                    write(PROMPT)
    finally:
        if pid_path:
            try:
                os.unlink(pid_path)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
