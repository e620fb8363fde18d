"""Per-key accounts (PC-2, PC-38) and the simulator-wide state shared by every route."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .audio import AudioEngine, Segment, pitch_for
from .config import SimulatorConfig
from .entities import Style, Task, Voice, mono, new_id, now_iso
from .errors import ApiError
from .faults import Faults
from .storage import Storage, avatar_png


@dataclass
class RequestRecord:
    """One request seen by the simulator (API, WebSocket handshake or WS synthesis)."""

    method: str
    path: str
    api_key: str | None
    status: int
    billable: bool


@dataclass
class AudioRecord:
    """A sync result kept for replay by audio id (PC-22)."""

    path: str
    response_data: dict[str, Any]


@dataclass
class FileUpload:
    """A pro-clone multipart upload (PC-27)."""

    id: str
    parts: dict[int, int] = field(default_factory=dict)
    finished: bool = False


@dataclass
class Account:
    """Everything one API key (or login token) owns."""

    key: str
    id: str
    is_api_key: bool
    credit: float
    bonus_credit: float
    is_paid: bool
    lora_quota: int
    quota: dict[str, int]
    voices: dict[str, Voice] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    splitters: dict[str, dict[str, Any]] = field(default_factory=dict)
    audios: dict[str, AudioRecord] = field(default_factory=dict)
    uploads: dict[str, float] = field(default_factory=dict)
    files: dict[str, FileUpload] = field(default_factory=dict)
    role: str = "user"
    sync_active: int = 0

    @property
    def balance(self) -> float:
        """Spendable credits: `bonusCredit` + `credit`."""
        return self.bonus_credit + self.credit

    def charge(self, amount: float) -> tuple[float, float]:
        """Debit bonusCredit first, then credit (PC-7); 403 when short. Returns the split."""
        if amount <= 0:
            return (0.0, 0.0)
        if self.balance < amount:
            raise ApiError(403, "BILLING_INSUFFICIENT_CREDIT")
        from_bonus = min(self.bonus_credit, amount)
        from_credit = amount - from_bonus
        self.bonus_credit -= from_bonus
        self.credit -= from_credit
        return (from_bonus, from_credit)

    def refund(self, split: tuple[float, float]) -> None:
        """Give back a `charge` split."""
        self.bonus_credit += split[0]
        self.credit += split[1]

    def advance(self) -> None:
        """Settle what time has decided: finished tasks (refund on failure), lora refunds."""
        now = mono()
        for task in self.tasks.values():
            if task.settled is None and now >= task.processing_until:
                task.settled = "failed" if task.will_fail else "generated"
                task.updated_at = now_iso()
                if task.will_fail:
                    self.refund(task.frozen)
                    task.frozen = (0.0, 0.0)
                else:
                    task.generated_at = task.updated_at
        for voice in self.voices.values():
            if voice.with_lora and not voice.lora_refunded and voice.status(now) == "lora-failed":
                voice.lora_refunded = True
                self.lora_quota += 1

    def info_json(self) -> dict[str, Any]:
        """The `user` object of `GET /api/account/info` (§13)."""
        return {
            "id": self.id,
            "name": f"sim-{self.id[:8]}",
            "email": f"sim-{self.id[:8]}@example.com",
            "phone": "191****3326",
            "avatar": f"https://cravatar.cn/avatar/{self.id.replace('-', '')}",
            "role": self.role,
            "isPaid": self.is_paid,
            "notifications": "0",
            "credits": self.bonus_credit,
            "credit": self.credit,
            "bonusCredit": self.bonus_credit,
            "loraQuota": self.lora_quota,
            "quota": {**self.quota, "lora": self.lora_quota},
        }

    def find_voice(self, voice_id: str) -> Voice | None:
        """Own or purchased voice by id; a market voice also answers to its bare uuid."""
        voice = self.voices.get(voice_id)
        if voice is None and not voice_id.startswith("market:"):
            voice = self.voices.get(f"market:{voice_id}")
            if voice is not None and voice.source != "market":
                voice = None
        return voice


#: The seed voices of every account: (name, language, [style names]).
SEED_VOICES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("Alice", "en-us", ("Default Style", "Cheerful", "Calm")),
    ("Bob", "en-us", ("Default Style", "Serious")),
    ("陈晨", "zh", ("Default Style",)),
)


class SimState:
    """All accounts plus the shared registries (shares, turbo channels, storage, log)."""

    def __init__(self, config: SimulatorConfig, faults: Faults) -> None:
        self.config = config
        self.faults = faults
        self.audio = AudioEngine(config.sample_rate, config.bitrate)
        self.storage = Storage(self.audio)
        self.accounts: dict[str, Account] = {}
        self.shares: dict[str, tuple[str, str]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.request_log: list[RequestRecord] = []
        self.websockets: set[web.WebSocketResponse] = set()
        self._seq = 0

    @property
    def base_url(self) -> str:
        """Public base URL (storage and WebSocket URLs are built on it)."""
        return self.storage.base_url

    def next_seq(self) -> int:
        """A monotonically increasing number (stable sort of same-millisecond items)."""
        self._seq += 1
        return self._seq

    def key_allowed(self, key: str) -> bool:
        """PC-2 strict mode: only configured keys are accepted."""
        return not self.config.strict_keys or key in self.config.api_keys

    def account(self, key: str) -> Account:
        """The account of `key`, created with the PC-38 seed on first use."""
        account = self.accounts.get(key)
        if account is None:
            cfg = self.config
            account = Account(
                key=key,
                id=new_id(),
                is_api_key=key.startswith("sk-"),
                credit=cfg.seed_credit,
                bonus_credit=cfg.seed_bonus_credit,
                is_paid=cfg.seed_is_paid,
                lora_quota=cfg.seed_lora_quota,
                quota=dict(cfg.seed_quota),
            )
            self.accounts[key] = account
            self._seed(account)
        return account

    def _seed(self, account: Account) -> None:
        """Give a new account its market voice and, unless disabled, the seed voices."""
        market = self.make_voice(account, "Market Narrator", ("Default Style",), "zh")
        market.id = f"market:{market.id}"
        market.source = "market"
        account.voices[market.id] = market
        if not self.config.seed_voices:
            return
        for name, language, styles in SEED_VOICES:
            voice = self.make_voice(account, name, styles, language)
            account.voices[voice.id] = voice

    def make_voice(
        self, account: Account, name: str, styles: tuple[str, ...], language: str
    ) -> Voice:
        """A ready (`pending`) voice with tone-sample styles and a served PNG avatar."""
        voice_id = new_id()
        prompts = []
        for index, style_name in enumerate(styles):
            style_id = "default" if index == 0 else new_id()
            prompts.append(self.sample_style(voice_id, style_id, style_name, language))
            prompts[-1].transcript = f"Hello, this is {name}."
            prompts[-1].duration = 3.0
        avatar = self.storage.put(
            f"avatar/voice/{account.id}/{voice_id}.png", avatar_png(voice_id), "image/png"
        )
        return Voice(
            id=voice_id,
            name=name,
            user_id=account.id,
            prompts=prompts,
            timeline=[(0.0, "pending")],
            avatar=avatar,
        )

    def sample_style(self, voice_id: str, style_id: str, name: str, language: str) -> Style:
        """A style whose sample/preview URLs serve a 3-second tone."""
        sample_id = new_id()
        segments = (Segment(pitch_for(voice_id, style_id), 3.0),)
        origin = self.storage.put_audio(f"prompt/{voice_id}/{sample_id}.mp3", segments)
        playback = self.storage.put_audio(f"prompt/{voice_id}/{sample_id}-playback.mp3", segments)
        return Style(
            id=style_id, name=name, origin_url=origin, playback_url=playback, language=language
        )

    def generation_calls(self, api_key: str | None = None) -> int:
        """Billable generation requests received (refused ones included)."""
        return sum(
            1
            for record in self.request_log
            if record.billable and (api_key is None or record.api_key == api_key)
        )
