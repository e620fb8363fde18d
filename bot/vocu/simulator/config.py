"""Settings of the simulator: timings, seed data, size caps (all overridable in tests)."""

from __future__ import annotations

from dataclasses import dataclass, field

MB = 1024 * 1024


def _default_quota() -> dict[str, int]:
    """PC-38 default quota of a fresh account."""
    return {
        "syncBaseConcurrent": 1,
        "syncPaidConcurrent": 4,
        "asyncBaseConcurrent": 2,
        "asyncHPConcurrent": 0,
        "lora": 1,
        "priority": 0,
    }


@dataclass
class SimulatorConfig:
    """Every tunable of the simulator; the defaults follow vocu-api.md (PC-38, PC-41, PC-44)."""

    # Lifecycles (PC-41, PC-44).
    voice_creating_seconds: float = 1.0
    task_pending_seconds: float = 0.5
    task_processing_seconds: float = 1.0
    # Audio (PC-8): duration = chars x seconds_per_char x speechRate (>= min_audio_seconds).
    seconds_per_char: float = 0.06
    min_audio_seconds: float = 0.5
    sample_rate: int = 24000
    bitrate: int = 48000
    stream_chunk_size: int = 8192
    # Keys (PC-2): in strict mode only `api_keys` are accepted.
    strict_keys: bool = False
    api_keys: list[str] = field(default_factory=list)
    # Seed data (PC-38).
    seed_bonus_credit: float = 10000
    seed_credit: float = 0
    seed_is_paid: bool = True
    seed_lora_quota: int = 1
    seed_quota: dict[str, int] = field(default_factory=_default_quota)
    seed_voices: bool = True
    # Size caps (§7, §12.9, §14).
    voice_prompt_max_bytes: int = 100 * MB
    style_prompt_max_bytes: int = 20 * MB
    upload_audio_max_bytes: int = 100 * MB
    upload_audio_max_seconds: float = 300.0
    avatar_max_chars: int = 14 * MB
    min_prompt_seconds: float = 3.0
    # PC-6: reject texts over this length with VALIDATION_TOO_LONG when strict_text is on.
    strict_text: bool = False
    max_text_chars: int = 1200
    # PC-5: sync concurrency budget (off by default so benchmarks can fire at will).
    enforce_sync_concurrency: bool = False
    concurrency_wait_seconds: float = 1.0
    # PC-7: VC costs this many credits per started second of input audio.
    vc_credits_per_second: int = 1
    # §16: channel lifetime announced in `cancelAfter`; False = account has no turbo quota.
    turbo_cancel_after: int = 60
    turbo_enabled: bool = True
    ws_chunk_seconds: float = 0.2
    # Public base URL put into storage and WebSocket URLs (default: the bound address).
    public_base_url: str | None = None
    # Seconds a stopping server waits for running handlers before cancelling them.
    shutdown_timeout: float = 0.5
