"""A console session driven through stdin, as `vocu-bot console` runs it."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from tests.media import tone

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_console_session(tmp_path):
    sample = tmp_path / "me.mp3"
    sample.write_bytes(tone(4.0))
    out = tmp_path / "out"
    script = "\n".join(
        [
            "/help",
            "/voices",
            "/say Hello from the console!",
            f"/clone Console Voice @{sample}",
            "yes",
            "/say",
            "/account",
        ]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOCU", "TELEGRAM", "DISCORD"))}
    env["VOCUBOT_DATA_DIR"] = str(tmp_path / "data")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console", "--out", str(out)],
        input=script,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "simulator" in result.stderr
    assert "/say" in result.stdout and "Alice" in result.stdout
    audio = sorted(out.glob("*.mp3"))
    assert len(audio) == 1 and audio[0].stat().st_size > 1000
    assert str(audio[0]) in result.stdout
    assert "Creating the voice Console Voice" in result.stdout
    assert "is ready" in result.stdout  # EOF waits for pending work
    assert "what to say" in result.stdout
    assert "credits" in result.stdout
