"""`bot/` never imports a chat library; `bot.vocu` imports nothing from the rest of `bot`."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
sys.modules['discord'] = None
sys.modules['telegram'] = None
import bot
names = [m.name for m in pkgutil.walk_packages(bot.__path__, 'bot.')]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_bot_imports_without_discord_or_telegram():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 20


def test_sdk_imports_nothing_from_the_rest_of_bot():
    offenders = []
    for path in (ROOT / "bot" / "vocu").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                name = node.module
            elif isinstance(node, ast.Import):
                name = node.names[0].name
            else:
                continue
            if name.startswith("bot.") and not name.startswith("bot.vocu"):
                offenders.append(f"{path}: {name}")
    assert not offenders
