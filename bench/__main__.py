"""`make bench`: run every benchmark module and print its figures."""

from __future__ import annotations

import importlib
import os
import sys

MODULES = ["bench.media", "bench.telegram_burst", "bench.discord_burst"]


def main() -> int:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        os.environ.pop(var, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    selected = sys.argv[1:] or MODULES
    for name in selected:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            print(f"{name}: skipped ({exc})")
            continue
        print(f"== {name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
