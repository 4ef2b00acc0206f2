"""A Bolt app that only acks, behind the same waitress server as supportbot: the floor
every latency figure is compared with. `PORT` and `SLACK_API_URL` from the environment."""

from __future__ import annotations

import os
import signal
import threading

from benchmarks.harness import SlackStandIn, start_bare


def main() -> None:
    standin = SlackStandIn()
    standin.url = os.environ["SLACK_API_URL"]
    target = start_bare(standin, port=int(os.environ["PORT"]))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    target.stop()


if __name__ == "__main__":
    main()
