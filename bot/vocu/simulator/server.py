"""`Simulator`: builds the aiohttp app, starts/stops it, and exposes state and knobs."""

from __future__ import annotations

from aiohttp import web

from . import (
    realtime,
    routes_misc,
    routes_styles,
    routes_tasks,
    routes_templates,
    routes_tts,
    routes_voices,
)
from .config import MB, SimulatorConfig
from .faults import Faults
from .helpers import STATE_KEY
from .middleware import add_request_id, pipeline
from .state import Account, RequestRecord, SimState


def build_app(state: SimState) -> web.Application:
    """The aiohttp application serving the whole simulated API."""
    cfg = state.config
    biggest = max(cfg.voice_prompt_max_bytes, cfg.upload_audio_max_bytes, cfg.avatar_max_chars)
    app = web.Application(middlewares=[pipeline], client_max_size=biggest * 3 + MB)
    app[STATE_KEY] = state
    app.on_response_prepare.append(add_request_id)
    for module in (routes_misc, routes_tts, routes_tasks, routes_templates, realtime):
        app.add_routes(module.routes)
    for prefix in ("/api/voice", "/api/tts/voice"):
        app.add_routes(routes_voices.build_routes(prefix))
        app.add_routes(routes_styles.build_routes(prefix))
    return app


class Simulator:
    """A stateful fake of the Vocu API on a local port (see vocu-api.md §2)."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.faults = Faults()
        self.state = SimState(self.config, self.faults)
        self.app = build_app(self.state)
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` once started."""
        return self.state.base_url

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every API/WebSocket request seen, oldest first."""
        return self.state.request_log

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port); returns the base URL."""
        runner = web.AppRunner(
            self.app,
            shutdown_timeout=self.config.shutdown_timeout,
            handler_cancellation=True,
            access_log=None,
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        public_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        if ":" in public_host:
            public_host = f"[{public_host}]"
        base = self.config.public_base_url or f"http://{public_host}:{bound_port}"
        self.state.storage.base_url = base.rstrip("/")
        return self.base_url

    async def stop(self) -> None:
        """Close every connection and release the port and worker threads."""
        await realtime.close_all(self.state)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.state.audio.close()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def account(self, api_key: str) -> Account:
        """The per-key state (voices, tasks, templates, credits…), created if new."""
        account = self.state.account(api_key)
        account.advance()
        return account

    def set_credits(self, api_key: str, credit: float = 0, bonus: float = 0) -> None:
        """Set a key's balances (zero → BILLING_INSUFFICIENT_CREDIT on generation)."""
        account = self.state.account(api_key)
        account.credit = credit
        account.bonus_credit = bonus

    def generation_calls(self, api_key: str | None = None) -> int:
        """Billable generation requests received, refused ones included."""
        return self.state.generation_calls(api_key)

    def reset_log(self) -> None:
        """Forget the request log."""
        self.state.request_log.clear()
