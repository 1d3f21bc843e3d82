"""Continuous traffic through a tunnel while something else happens (a rekey, a clear):
a `ping` flood at a steady rate in a namespace, counted when it ends."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field


@dataclass
class SteadyPing:
    """`ping -i INTERVAL` for SECONDS from `source` to `target` inside `ns`, running in
    the background from `start()` until its last reply."""

    ns: str
    source: str
    target: str
    seconds: int
    interval: float = 0.05
    process: subprocess.Popen[str] | None = field(default=None, init=False)

    def start(self) -> SteadyPing:
        # A count, not only a deadline: with `-w` alone ping exits at the deadline and a
        # request still in flight then counts as lost; with `-c` it waits for the last
        # replies (the deadline, a few seconds later, only bounds a broken tunnel).
        count = max(1, round(self.seconds / self.interval))
        self.process = subprocess.Popen(
            [
                "ip", "netns", "exec", self.ns, "ping", "-n", "-q", "-i", str(self.interval),
                "-c", str(count), "-w", str(self.seconds + 5), "-W", "1",
                "-I", self.source, self.target,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )  # fmt: skip
        return self

    def result(self) -> tuple[int, int]:
        """(sent, received), waiting for the deadline."""
        assert self.process is not None, "start() first"
        output, _ = self.process.communicate(timeout=self.seconds + 35)
        match = re.search(r"(\d+) packets transmitted, (\d+) received", output)
        assert match, output
        return int(match.group(1)), int(match.group(2))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
