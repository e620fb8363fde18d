"""Vocu failures become friendly replies in one place."""

from __future__ import annotations

from tests.core.conftest import run


async def test_out_of_credits(app, ctx, simulator, api_key):
    await run(app, ctx, "/voices")
    simulator.set_credits(api_key, credit=0, bonus=0)
    await run(app, ctx, "/say Hello")
    assert "out of credits" in ctx.last
    assert not ctx.audio


async def test_rate_limited_says_when(app, ctx, simulator):
    await run(app, ctx, "/voices")
    simulator.faults.fail_next(5, status=429, code="RATE_LIMIT_EXCEEDED", retry_after=7)
    await run(app, ctx, "/say Hello")
    assert "7 s" in ctx.last


async def test_unavailable_carries_request_id(app, ctx, simulator):
    await run(app, ctx, "/voices")
    simulator.faults.fail_next(5, status=503, code="NO_WORKER_AVAILABLE")
    await run(app, ctx, "/say Hello")
    assert "request id" in ctx.last
    assert "-" not in ctx.last.split("request id")[1][:3]


async def test_voice_still_creating(app, ctx, simulator):
    from tests.core.conftest import attachment
    from tests.media import tone

    simulator.faults.stuck_creating = True
    app.limits.voice_ready_timeout = 0.5
    await run(app, ctx, "/clone Erin", attachment(tone(4.0), "e.mp3"))
    await run(
        app,
        ctx,
        "/say Hello",
    )
    await run(app, ctx, "/use Erin")
    await run(app, ctx, "/say Hello")
    assert "not ready" in ctx.last or "still being created" in ctx.last


async def test_unknown_command(app, ctx):
    await run(app, ctx, "/frobnicate")
    assert "/help" in ctx.last


async def test_unexpected_error_hides_details(app, ctx, monkeypatch):
    async def boom(*a, **k):
        raise RuntimeError("secret internals sk-abc")

    monkeypatch.setattr(app.vocu.account, "info", boom)
    await run(app, ctx, "/account")
    assert "Something went wrong (ref" in ctx.last
    assert "sk-abc" not in ctx.last
