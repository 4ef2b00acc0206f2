"""Wiring: the Bolt app, the HTTP server around it, the scheduler, and start/stop."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from flask import Flask, Response, request
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler

from supportbot.bot import startup
from supportbot.bot.config import Settings
from supportbot.bot.runtime import Runtime
from supportbot.handlers import FEATURE_MODULES
from supportbot.handlers.common import dedupe_events, make_sender
from supportbot.handlers.slack_request import SlackRequestHandler

log = logging.getLogger(__name__)


def build_client(settings: Settings, *, for_outbox: bool = False) -> WebClient:
    """The Web API client: base URL from settings, Slack's own retry handlers on.

    The outbox's client retries connection and server errors once and leaves 429s to the
    outbox, which reschedules the row by Retry-After instead of holding a thread asleep.
    """
    if for_outbox:
        handlers_: list[Any] = [
            ConnectionErrorRetryHandler(max_retry_count=1),
            ServerErrorRetryHandler(max_retry_count=1),
        ]
    else:
        handlers_ = [
            ConnectionErrorRetryHandler(max_retry_count=2),
            RateLimitErrorRetryHandler(max_retry_count=2),
            ServerErrorRetryHandler(max_retry_count=2),
        ]
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=handlers_,
    )


def email_resolver(settings: Settings) -> Callable[[str], str | None] | None:
    """email -> Slack user id through `users.lookupByEmail` (needs `users:read.email`),
    cached for the resolver's life; None without a bot token. An email Slack does not know
    (or a failed lookup) resolves to None: the ticket keeps its email. Used by ticket
    imports and the helpdesk sync."""
    if not settings.slack_bot_token:
        return None
    client = build_client(settings)
    cache: dict[str, str | None] = {}

    def resolve(email: str) -> str | None:
        if email not in cache:
            try:
                cache[email] = str(client.users_lookupByEmail(email=email)["user"]["id"])
            except Exception:  # unknown email, no scope, Slack down: the ticket keeps its email
                cache[email] = None
        return cache[email]

    return resolve


def build_app(
    rt: Runtime,
    *,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    token_verification: bool = True,
) -> App:
    client = client or build_client(rt.settings)
    # Listeners run in this pool and the request thread waits on an Event until they ack
    # (handlers.common), so the HTTP answer leaves as soon as ack() is called. Bolt's own
    # asynchronous runner polls for the ack every 10 ms, which under load costs more than
    # most listeners do; `process_before_response` makes Bolt call our wrapper directly.
    rt.handler_pool = listener_executor or ThreadPoolExecutor(
        max_workers=16, thread_name_prefix="listener"
    )
    app = App(
        client=client,
        signing_secret=rt.settings.slack_signing_secret,
        token_verification_enabled=token_verification,
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )
    app.use(dedupe_events(rt))
    rt.outbox.send = make_sender(build_client(rt.settings, for_outbox=True))
    for module in FEATURE_MODULES:
        module.register(app, rt)
    return app


def build_web(rt: Runtime, app: App, readiness: startup.Readiness | None = None) -> Flask:
    """`POST /slack/events`, `GET /healthz` and any feature's own HTTP endpoints."""
    web = Flask(__name__)
    web.config["MAX_CONTENT_LENGTH"] = 1 * 1024 * 1024
    slack_handler = SlackRequestHandler(app)

    @web.post("/slack/events")
    def slack_events() -> Any:
        return slack_handler.handle(request)

    @web.get("/healthz")
    def healthz() -> Response:
        return startup.health(rt, readiness)

    for module in FEATURE_MODULES:
        register_web = getattr(module, "register_web", None)
        if register_web is not None:
            register_web(web, rt)
    return web


# Requests served at once per process; the rest wait in the server's queue in arrival
# order. One Python process runs one thread at a time: every extra request in flight only
# slows the ones holding the SQLite writer lock or a database row (benchmarks/README.md,
# "Load", has the measurements).
HTTP_THREADS = 4


# How long a thread may hold the GIL while another waits for it (Python's default is 5 ms).
# A command crosses threads several times (HTTP thread, listener, the ack back), and each
# crossing can wait out the holder's whole interval: 1 ms keeps those waits short
# (benchmarks/README.md, "The GIL switch interval").
SWITCH_INTERVAL_SECONDS = 0.001


def settle_process() -> None:
    """Once the app is built: everything allocated so far (modules, mappers, the Bolt app)
    lives as long as the process, so the garbage collector stops re-scanning it and a full
    collection no longer pauses every thread for as long (benchmarks/README.md, "Load");
    and threads hand the interpreter over sooner."""
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


class HttpServer:
    """waitress (a production WSGI server) in a thread, with a graceful stop: no new
    connections, in-flight requests finish, then the loop ends."""

    def __init__(self, web: Flask, *, host: str, port: int, threads: int = HTTP_THREADS) -> None:
        from waitress.server import create_server

        # Requests waiting for one of the `threads` is the design (see HTTP_THREADS), not
        # a fault: waitress would log a warning for every request that waits.
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)
        self._server: Any = create_server(web, host=host, port=port, threads=threads)
        self.port: int = self._server.effective_port
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._server.run()
        except (OSError, ValueError):
            if not self._stopping:
                raise

    def stop(self, timeout: float = 30.0) -> None:
        from waitress import wasyncore

        self._stopping = True
        self._server.accepting = False
        dispatcher = self._server.task_dispatcher
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (dispatcher.queue or dispatcher.active_count):
            time.sleep(0.02)
        dispatcher.shutdown(cancel_pending=True, timeout=max(1.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            try:
                self._server.trigger.pull_trigger(lambda: wasyncore.close_all(self._server._map))
            except OSError:  # the loop already closed its trigger
                pass
        self._thread.join(timeout=10)


def start_background(rt: Runtime) -> Any:
    """What runs beside the HTTP server in every process: the scheduler and the outbox's
    delivery thread. Returns the scheduler, for `stop_background`."""
    from supportbot.bot.jobs import install_all
    from supportbot.bot.scheduler import Scheduler

    scheduler = Scheduler(rt.clock)
    install_all(scheduler, rt, resolve_email=email_resolver(rt.settings))
    scheduler.start()
    # Deliver what a previous run stored but could not send, without waiting for the job.
    rt.outbox.release_dead_leases()
    rt.outbox.start_background()  # also delivers what a previous run left behind
    return scheduler


def stop_background(rt: Runtime, scheduler: Any) -> None:
    """After the server stopped taking requests: work after acks (Slack sends) finishes,
    then the scheduler and the outbox stop; what is left waits in the database."""
    if rt.handler_pool is not None:
        rt.handler_pool.shutdown(wait=True)
    scheduler.shutdown(wait=True)
    rt.outbox.stop()


def serve(rt: Runtime) -> None:
    """Run until SIGTERM/SIGINT: HTTP on PORT (waitress) or Socket Mode, plus the scheduler.
    PORT serves `/healthz` first (in Socket Mode too), 503 until Slack has answered."""
    app = build_app(rt, token_verification=False)  # startup.wait_for_slack checks the token
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("signal %s: finishing in-flight work, then stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    readiness = startup.Readiness()
    web = startup.build_health_web(rt, readiness) if rt.settings.socket_mode else build_web(rt, app, readiness)
    try:
        server = HttpServer(web, host="0.0.0.0", port=rt.settings.port).start()  # noqa: S104
    except OSError as exc:
        raise startup.listen_error(rt.settings.port, exc) from None
    try:
        if startup.wait_for_slack(rt.settings, stop) is None:
            server.stop()  # stopped before Slack ever answered: nothing else was started
            log.info("supportbot stopped")
            return
    except BaseException:
        server.stop(timeout=1)
        raise
    scheduler = start_background(rt)
    settle_process()
    if rt.settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler
        from slack_sdk.errors import SlackApiError

        handler = SocketModeHandler(app, rt.settings.slack_app_token)
        try:
            handler.connect()
        except SlackApiError as exc:
            stop_background(rt, scheduler)
            server.stop(timeout=1)
            raise startup.app_token_error(exc) from None
        readiness.slack.set()
        log.info("supportbot connected in Socket Mode (GET /healthz on port %s)", rt.settings.port)
        stop.wait()
        handler.close()
    else:
        readiness.slack.set()
        log.info("supportbot serving HTTP on port %s (POST /slack/events)", rt.settings.port)
        stop.wait()
    server.stop()
    stop_background(rt, scheduler)
    log.info("supportbot stopped")
