"""Configuration as validated data: networks, contracts by address and kind, store, service, webhooks.

Loaded from TOML (`config.example.toml` carries the real networks and addresses as defaults).
Unknown keys, wrong types, bad addresses and dangling references are errors, reported one line per
problem. Secrets are never in the file: only the names of the env vars that hold them.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from eth_utils import is_checksum_address, is_hex_address, to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ogwatch.errors import ConfigError

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
PRECOMPILE_KINDS = frozenset({"inference_precompile", "staking_precompile"})
ContractKind = Literal[
    "twinfun_market",        # Twin.fun BSC: UUPS proxy, setter events, 5 % cap per setter
    "twinfun_docs_market",   # documented Twin.fun: no setter events, no cap
    "friendtech_market",     # friend.tech style: address subjects, no setter events, no cap
    "settlement_relay",      # InferenceSettlementRelay v2
    "settlement_relay_v1",
    "tee_registry",
    "tee_verifier",
    "inference_hub",
    "inference_precompile",
    "staking_precompile",
    "workflow",
    "timelock",              # an OpenZeppelin TimelockController that owns a market (queued changes)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


def _env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not an environment variable name (A-Z, 0-9, _)")
    return value


def checked_address(value: str) -> str:
    """An EVM address in EIP-55 form; a wrong length or a bad mixed-case checksum is an error."""
    if not is_hex_address(value):
        raise ValueError(f"{value!r} is not a 20-byte hex address")
    if value != value.lower() and value[2:] != value[2:].upper() and not is_checksum_address(value):
        raise ValueError(f"{value} has a bad EIP-55 checksum (typo?)")
    return to_checksum_address(value)


class Network(_Strict):
    """One chain: how to reach it, what it is, and how to show its evidence."""

    name: str
    chain_id: int = Field(gt=0)
    rpc_urls: list[str] = []
    rpc_url_env: list[str] = []
    production: bool = False
    confirmations: int = Field(default=2, ge=0, le=10_000)
    enabled: bool = True
    native_symbol: str = "ETH"
    explorer_tx_url: str = ""
    explorer_address_url: str = ""
    explorer_block_url: str = ""  # e.g. "https://bscscan.com/block/{block}"
    poll_seconds: float = Field(default=15.0, gt=0, le=3600)
    span_blocks: int = Field(default=2000, ge=1, le=1_000_000)
    # A local devnet restarts with a new genesis: forget its data instead of refusing (never on real chains).
    reset_on_new_genesis: bool = False
    # Compare heads and block hashes across the URLs before indexing (collectors/crosscheck.py);
    # unset: on when the network has two or more URLs. A URL's head may trail the highest by max_lag blocks.
    cross_check_heads: bool | None = None
    cross_check_max_lag: int = Field(default=5, ge=0, le=1_000_000)
    # A market's first fee reading is compared with its state at creation (when the node keeps that state),
    # so changes made before ogwatch first looked are found too (collectors/fee_state_origin.py).
    fee_history_from_creation: bool = False
    # Optional verification and validator sources (off when empty).
    walrus_aggregator_url: str = ""  # Walrus aggregator: GET {url}/v1/blobs/{blob_id} gives a batch's tree dump
    cometbft_url: str = ""           # CometBFT RPC: GET {url}/validators?height=&page=&per_page=

    @field_validator("rpc_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://[^\s/]+", url):
                raise ValueError(f"RPC URL must start with http:// or https://: {url[:40]!r}")
        return urls

    @field_validator("rpc_url_env")
    @classmethod
    def _envs(cls, names: list[str]) -> list[str]:
        return [_env_name(n) for n in names]

    @model_validator(mode="after")
    def _cross_check(self) -> Network:
        if self.cross_check_heads and len(self.rpc_urls) + len(self.rpc_url_env) < 2:
            raise ValueError("cross_check_heads = true needs at least two RPC URLs (rpc_urls and rpc_url_env)")
        return self

    @property
    def cross_checked(self) -> bool:
        """Whether heads are cross-checked across the URLs (explicit, or two or more URLs)."""
        urls = len(self.rpc_urls) + len(self.rpc_url_env)
        return urls >= 2 if self.cross_check_heads is None else self.cross_check_heads


class Contract(_Strict):
    """A contract (or precompile) to index, declared by address and kind."""

    network: str
    kind: ContractKind
    address: str
    label: str = ""
    start_block: int = Field(default=0, ge=0)
    precompile: bool = False
    tags: list[str] = []

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return checked_address(value)

    @model_validator(mode="after")
    def _precompile_kind(self) -> Contract:
        if (self.kind in PRECOMPILE_KINDS) != self.precompile:
            want = "true" if self.kind in PRECOMPILE_KINDS else "false"
            raise ValueError(f"kind {self.kind} needs precompile = {want}")
        return self


class StoreSettings(_Strict):
    """Where the DuckDB file lives (a relative path is taken from the config file's folder)."""

    path: str = "data/ogwatch.duckdb"
    # The scheduler's DuckDB memory limit (buffer pool, indexes, query memory; beyond it DuckDB evicts or spills).
    memory_limit: str = Field(default="512MB", pattern=r"^[0-9]+(\.[0-9]+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    # How often the scheduler checkpoints and reopens the store and trims the C heap (0: never); bounds memory.
    maintain_seconds: float = Field(default=300.0, ge=0, le=86_400)
    # Reopen sooner when the scheduler's resident set grew by this many MB since the last reopen (0: off).
    reopen_growth_mb: float = Field(default=48.0, ge=0, le=65_536)


class ServiceSettings(_Strict):
    """The scheduler process."""

    heartbeat_seconds: float = Field(default=15.0, gt=0, le=3600)


class Webhook(_Strict):
    """A webhook receiver; its URL and signing secret are env var names (generic webhooks are signed)."""

    url_env: str
    secret_env: str = ""  # required for kind generic (Standard Webhooks signing); Slack/Discord URLs are the secret
    kind: Literal["generic", "slack", "discord"] = "generic"
    allow_private: bool = False  # allow URLs resolving to loopback/private/link-local addresses (local receivers)
    timeout_seconds: float = Field(default=10.0, gt=0, le=10.0)  # a slower answer counts as a failed attempt

    @field_validator("url_env", "secret_env")
    @classmethod
    def _names(cls, value: str) -> str:
        return _env_name(value) if value else value

    @model_validator(mode="after")
    def _signed(self) -> Webhook:
        if self.kind == "generic" and not self.secret_env:
            raise ValueError("a generic webhook needs secret_env (its Standard Webhooks signing secret)")
        return self


Severity = Literal["info", "warning", "critical"]


class AlertRoute(_Strict):
    """Send alerts of these rules (empty: all) at or above a severity to a webhook channel."""

    channel: str
    rules: list[str] = []
    min_severity: Severity = "info"


class SilenceSettings(_Strict):
    """Mute a rule's alerts (`*`: every rule) whose labels match, until an expiry."""

    rule: str = "*"
    matchers: dict[str, str] = {}
    until: datetime
    comment: str = ""

    @field_validator("until")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # a TOML local date-time is taken as UTC


class AlertSettings(_Strict):
    """Alert evaluation, grouping, routing, silences and the heartbeat (dead-man's switch) webhook."""

    evaluate_seconds: float = Field(default=30.0, gt=0, le=3600)
    deliver_seconds: float = Field(default=5.0, gt=0, le=3600)
    group_wait_seconds: float = Field(default=30.0, ge=0)  # critical alerts never wait
    group_interval_seconds: float = Field(default=300.0, ge=0)
    repeat_interval_seconds: float = Field(default=14400.0, gt=0)
    send_resolved: bool = True
    group_by: list[str] = ["rule"]  # label names (plus `rule`) that make up a group
    routes: list[AlertRoute] = []
    silences: list[SilenceSettings] = []
    heartbeat_channel: str = ""
    heartbeat_seconds: float = Field(default=300.0, gt=0)
    stale_after_seconds: float = Field(default=120.0, gt=0)  # `ogwatch alerts health`: the monitor is stale after


class Caller(_Strict):
    """A contract or account that calls the inference hub, with its production tags."""

    network: str
    address: str
    label: str = ""
    tags: list[str] = []  # e.g. ["production"], ["experiment"]

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        return checked_address(value)


class EntityMapping(_Strict):
    """One identifier (EVM address or validator operator address) mapped to an entity, with its reason."""

    id: str
    entity: str
    source: str = ""  # where the mapping comes from (a URL, a statement, ...)


class RetentionSettings(_Strict):
    """Pruning of rows that are only operational (store/retention.py); evidence is never pruned."""

    enabled: bool = True
    every_seconds: float = Field(default=3600.0, gt=0, le=86400)
    delivery_attempts_days: float = Field(default=30.0, ge=1)  # attempts of finished notifications
    collector_health_days: float = Field(default=7.0, ge=1)  # tick history; the latest rows always stay
    service_heartbeats_days: float = Field(default=7.0, ge=1)
    alert_runs_days: float = Field(default=30.0, ge=1)
    market_state_days: float = Field(default=30.0, ge=1)  # repeated readings inside runs of equal values


class ConcentrationSettings(_Strict):
    """Concentration bands (HHI on 0..10,000)."""

    # 2023 US Merger Guidelines: moderately concentrated above 1,000, highly concentrated above 1,800.
    hhi_bands: tuple[float, float] = (1000.0, 1800.0)


class Config(_Strict):
    """The whole configuration."""

    store: StoreSettings = StoreSettings()
    service: ServiceSettings = ServiceSettings()
    networks: dict[str, Network]
    contracts: list[Contract] = []
    webhooks: dict[str, Webhook] = {}
    callers: list[Caller] = []
    entities: list[EntityMapping] = []
    concentration: ConcentrationSettings = ConcentrationSettings()
    alerts: AlertSettings = AlertSettings()
    retention: RetentionSettings = RetentionSettings()
    rules: dict[str, dict[str, Any]] = {}  # [rules.NAME] thresholds; names and keys are checked by alerts/rules

    @model_validator(mode="after")
    def _references(self) -> Config:
        seen: set[tuple[str, str]] = set()
        for i, c in enumerate(self.contracts):
            if c.network not in self.networks:
                raise ValueError(f"contracts[{i}]: unknown network {c.network!r}")
            if (c.network, c.address) in seen:
                raise ValueError(f"contracts[{i}]: {c.address} is declared twice on {c.network}")
            seen.add((c.network, c.address))
        for i, k in enumerate(self.callers):
            if k.network not in self.networks:
                raise ValueError(f"callers[{i}]: unknown network {k.network!r}")
        for i, r in enumerate(self.alerts.routes):
            if r.channel not in self.webhooks:
                raise ValueError(f"alerts.routes[{i}]: unknown webhook {r.channel!r}")
        if self.alerts.heartbeat_channel and self.alerts.heartbeat_channel not in self.webhooks:
            raise ValueError(f"alerts.heartbeat_channel: unknown webhook {self.alerts.heartbeat_channel!r}")
        return self

    def contracts_on(self, network: str) -> list[Contract]:
        """The contracts declared on one network."""
        return [c for c in self.contracts if c.network == network]


def load(path: Path | str) -> Config:
    """Read and validate a TOML config; raises ConfigError with one line per problem."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError([f"{path}: config file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read ({exc.strerror})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: malformed TOML: {exc}"]) from None
    cfg = parse(raw, source=str(path))
    store = Path(cfg.store.path)
    if not store.is_absolute():  # relative paths mean: next to the config file, wherever ogwatch runs
        cfg = cfg.model_copy(update={"store": StoreSettings(path=str(path.resolve().parent / store))})
    return cfg


def parse(raw: dict[str, object], source: str = "config") -> Config:
    """Validate an already-parsed config mapping."""
    try:
        return Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError([f"{source}: {_line(e)}" for e in exc.errors()]) from None


def _line(err: object) -> str:
    e = dict(err)  # type: ignore[call-overload]
    loc = ".".join(str(p) for p in e.get("loc", ()))
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    if e.get("type") == "extra_forbidden":
        msg = "unknown key"
    elif "input" in e and not isinstance(e["input"], dict | list) and str(e["input"]) not in msg:
        msg += f" (got {e['input']!r})"
    return f"{loc}: {msg}" if loc else msg
