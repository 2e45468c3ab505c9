"""The sandbox's world: the emulator, the real bot on a simulated clock, and the personas.

`Sandbox` only drives things: it starts the emulator and a `BotRuntime` on a `ManualClock`,
binds personas through real invites and ``/start``, acts for them through the emulator's
control client, and moves the clock, running the jobs the scheduler would run at each step.
Every rule (who may do what, what is due, what a text says) stays in the bot.

The emulator keeps its state in memory: after a restart the personas are recreated with the same
user ids (from AppState ``sandbox_personas``), so the bot's contacts still match, their chats
start empty, and the emulator's update and message numbering is moved past what the database
has seen (through the emulator's private update counter, for want of a public setting).
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import func, select

from bot.config import Settings
from bot.domain.clock import ManualClock
from bot.domain.register import load_json
from bot.domain.roles import ROLE_LABELS, LeaderRef, Principal, Role, UnitRef
from bot.domain.workcal import WorkCalendar
from bot.emulator import ControlClient, EmulatorServer, TranscriptMessage
from bot.runtime.run import BotRuntime
from bot.runtime.scheduling import run_planning, run_summaries
from bot.sandbox.steps import Step, checkpoints, describe, target_for
from db import people
from db.models import AppState, InboxUpdate, OutboxMessage, ReportDraft
from db.register import import_register
from db.tasks import latest_year
from handlers.context import Services
from handlers.menu import set_menu_for
from jobs.reminders import OverrideSync
from jobs.sender import OutboxSender

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = ROOT / "seed_tasks.json"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/sandbox.db"
BOT_USERNAME = "duban_sandbox_bot"
PERSONAS_KEY = "sandbox_personas"
CLOCK_KEY = "sandbox_clock"
MAX_TEXT = 4096
MAX_FILE = 21 * 1024 * 1024  # a file a persona sends (the bot refuses what is over its limit)
PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
ADMIN_USER_ID = 10_000_006  # the admin persona; its chat also gets the bot's error reports
GROUP_KEY = "group"
GROUP_TITLE = "南安市重点工作督办群"
FIRST_NEW_PERSON_ID = 20_000_001
UNBOUND = "未绑定"
# Telegram lets a bot post 20 messages a minute in a group; the sandbox's bot and emulator allow
# GROUP_SPEEDUP times that, so a fast-forward is not held up by the work group's 通报 (the page
# says so). Private chats are not paced in the sandbox (see Sandbox.runtime_settings).
TELEGRAM_GROUP_PER_MINUTE = 20
GROUP_SPEEDUP = 60
GROUP_PER_MINUTE = TELEGRAM_GROUP_PER_MINUTE * GROUP_SPEEDUP
SEND_RATE = 1000.0  # messages per second overall (the emulator allows twice that)
LIMITS_NOTE = (
    f"沙盒中群组限速已加快{GROUP_SPEEDUP}倍（每群每分钟{GROUP_PER_MINUTE}条，"
    f"Telegram 实际为{TELEGRAM_GROUP_PER_MINUTE}条），私聊不限速，以便快进时消息及时送达。"
)


def _message_id(payload: dict[str, Any]) -> int:
    """The message id an update carries (a message, or the message a button was on)."""
    message = payload.get("message") or (payload.get("callback_query") or {}).get("message")
    return int(message.get("message_id") or 0) if isinstance(message, dict) else 0


class SandboxError(ValueError):
    """A request the sandbox cannot carry out; the message is shown to the person."""


@dataclass(frozen=True)
class PersonaSpec:
    """A persona created and bound when the sandbox starts on a fresh database."""

    key: str
    user_id: int
    label: str
    name: str
    group: str
    role: Role
    unit: str | None = None
    leader: str | None = None


PERSONAS: tuple[PersonaSpec, ...] = (
    PersonaSpec("fgj", 10_000_001, "发改局联络员", "林晓东", "联络员", Role.LIAISON, unit="发改局"),
    PersonaSpec("gxj", 10_000_002, "工信局联络员", "陈雅琴", "联络员", Role.LIAISON, unit="工信局"),
    PersonaSpec("zjj", 10_000_003, "住建局联络员", "黄志明", "联络员", Role.LIAISON, unit="住建局"),
    PersonaSpec("office", 10_000_004, "督导办工作人员", "王丽华", "督导办", Role.OFFICE),
    PersonaSpec(
        "leader", 10_000_005, "分管领导 吴振强", "吴振强", "分管领导", Role.LEADER, leader="吴振强"
    ),
    PersonaSpec("admin", ADMIN_USER_ID, "管理员", "李明", "管理员", Role.ADMIN),
)


@dataclass(frozen=True)
class Persona:
    """A chat the page shows: a person's private chat with the bot, or the work group."""

    # A private chat's id is the user's id; the work group (read only) has a negative chat_id.

    key: str
    label: str
    name: str
    group: str
    user_id: int
    chat_id: int | None = None

    @property
    def chat(self) -> int:
        """The chat this persona's transcript is."""
        return self.chat_id if self.chat_id is not None else self.user_id

    @property
    def is_group(self) -> bool:
        """True for the work group (read only)."""
        return self.chat < 0

    def to_json(self) -> dict[str, Any]:
        """As stored in AppState and shown on the page."""
        return {
            "key": self.key,
            "label": self.label,
            "name": self.name,
            "group": self.group,
            "user_id": self.user_id,
            "chat_id": self.chat,
            "kind": "group" if self.is_group else "private",
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Persona:
        """From the stored form."""
        user_id = int(data["user_id"])
        chat_id = int(data.get("chat_id") or user_id)
        return cls(
            str(data["key"]),
            str(data["label"]),
            str(data["name"]),
            str(data["group"]),
            user_id,
            chat_id if chat_id != user_id else None,
        )


def bound_as(principal: Principal) -> tuple[str, str] | None:
    """The (label, group) a bound account is listed under on the page; None if unbound.

    The same rule gives the preset personas' labels (发改局联络员, 分管领导 吴振强, ...).
    """
    parts: list[str] = []
    if principal.units:
        parts.append("、".join(u.name for u in principal.units) + ROLE_LABELS[Role.LIAISON])
    if principal.office:
        parts.append("督导办工作人员")
    if principal.leaders:
        parts.append(f"{ROLE_LABELS[Role.LEADER]} " + "、".join(x.name for x in principal.leaders))
    if principal.admin:
        parts.append(ROLE_LABELS[Role.ADMIN])
    if not parts:
        return None
    order = (Role.LIAISON, Role.OFFICE, Role.LEADER, Role.ADMIN)
    first = next(r for r in order if r in principal.roles)
    return " · ".join(parts), ROLE_LABELS[first]


def default_start(year: int, settings: Settings, calendar: WorkCalendar) -> datetime:
    """A fresh sandbox's first moment: the first workday from 16 March, at the reminder time.

    Mid-March of the register's year leaves ten days before the month's deadline, so a whole
    cycle (reminders, deadline, overdue, escalation, the next cycle) fits in one fast-forward.
    """
    day = calendar.next_workday(datetime(year, 3, 16, tzinfo=settings.tz).date())
    return datetime.combine(day, settings.reminder_time, tzinfo=settings.tz)


class Sandbox:
    """The emulator, the bot on a manual clock and the personas, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        database_url: str | None = None,
        start: datetime | None = None,
        seed: Path | None = SEED,
        real_now: Callable[[], datetime] | None = None,
    ) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the sandbox's start must be an aware datetime")
        self.settings = settings
        self.database_url = database_url or DEFAULT_DATABASE_URL
        # Calendar overrides stored from the CLI reach the sandbox's bot as they do the real one.
        self.overrides = OverrideSync()
        self.requested_start = start
        self.seed = seed
        self._real_now = real_now or (lambda: datetime.now(settings.tz))
        self.clock = ManualClock(start or datetime.now(settings.tz))
        self.server: EmulatorServer | None = None
        self.people: ControlClient | None = None
        self.runtime: BotRuntime | None = None
        self.personas: dict[str, Persona] = {}
        self.clock_generation = 0
        self.imported_register = False
        self._new_people = 0
        self._stamps: dict[int, dict[int, datetime]] = {}
        self._advance_lock = asyncio.Lock()
        self._clock_moved = asyncio.Event()
        self.busy = False
        # While a step runs: where it goes and how far it got (the page shows it).
        self.progress: dict[str, Any] | None = None
        self._labels_checked_at = -1  # the emulator's version when labels were last checked
        self.ready = False  # started: the page's API answers

    # ------------------------------------------------------------------ lifecycle

    @property
    def services(self) -> Services:
        """The running bot's services."""
        assert self.runtime is not None and self.runtime.services is not None
        return self.runtime.services

    @property
    def sender(self) -> OutboxSender:
        """The running bot's outbox sender."""
        assert self.runtime is not None and self.runtime.sender is not None
        return self.runtime.sender

    @property
    def control(self) -> ControlClient:
        """The emulator's control client (simulated people)."""
        assert self.people is not None
        return self.people

    def runtime_settings(self, token: str) -> Settings:
        """The bot's settings inside the sandbox: the emulator's token and the sandbox database.

        Pacing is relaxed (simulated days pass in fractions of a second): private chats are not
        paced and a group gets GROUP_PER_MINUTE messages a minute, which the emulator enforces
        (`sandbox_limits`). Error reports go to the admin persona's chat, where the page shows
        them. 佐证材料 are kept beside the sandbox database unless EVIDENCE_DIR says otherwise.
        """
        evidence: dict[str, Any] = {}
        path = self.settings.model_copy(update={"database_url": self.database_url}).sqlite_path()
        if "evidence_dir" not in self.settings.model_fields_set and path is not None:
            evidence["evidence_dir"] = path.parent / "sandbox-evidence"
        return self.settings.model_copy(
            update={
                "bot_token": SecretStr(token),
                "bot_username": BOT_USERNAME,
                "database_url": self.database_url,
                "send_private_interval": 0.0,
                "send_rate_per_second": SEND_RATE,
                "send_group_per_minute": GROUP_PER_MINUTE,
                "admin_chat_id": ADMIN_USER_ID,
                **evidence,
            }
        )

    async def sandbox_limits(self) -> None:
        """The emulator enforces the sandbox's limits: a group's sped up, the rest generous.

        The bot paces itself below them (`runtime_settings`); a message sent faster would get
        Telegram's 429 from the emulator, as from Telegram.
        """
        await self.control.set_limits(
            enabled=True,
            speedup=1.0,
            group_per_minute=float(GROUP_PER_MINUTE),
            global_per_second=2 * SEND_RATE,
            private_per_second=SEND_RATE,
            private_burst=SEND_RATE,
        )

    async def start(self) -> None:
        """Start emulator and bot, import the register if needed, restore or bind the personas."""
        self.server = EmulatorServer(bot_username=BOT_USERNAME)
        await self.server.start()
        self.people = ControlClient.local(self.server.emulator)
        await self.sandbox_limits()
        settings = self.runtime_settings(self.server.token)
        path = settings.sqlite_path()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.runtime = BotRuntime(
            settings, clock=self.clock, base_url=self.server.url, poll_timeout=5.0, run_jobs=False
        )
        await self.runtime.start()
        await self._restore_clock()
        await self._restore_or_bind_personas()
        await self.run_jobs()
        self.ready = True

    async def stop(self) -> None:
        """Stop the bot, then the emulator."""
        self.ready = False
        self._clock_moved.set()
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime = None
        if self.people is not None:
            await self.people.close()
            self.people = None
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def __aenter__(self) -> Sandbox:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _state(self, key: str) -> dict[str, Any] | None:
        async with self.services.sessionmaker() as session:
            row = await session.get(AppState, key)
            return dict(row.value) if row is not None else None

    async def _save(self, key: str, value: dict[str, Any]) -> None:
        async with self.services.sessionmaker() as session, session.begin():
            await session.merge(AppState(key=key, value=value, updated_at=self.clock.now()))

    async def _restore_clock(self) -> None:
        """Continue at the stored simulated time, or start fresh (importing the register)."""
        stored = await self._state(CLOCK_KEY)
        if stored is not None and self.requested_start is None:
            self.clock.set(datetime.fromisoformat(str(stored["at"])))
        async with self.services.sessionmaker() as session:
            year = await latest_year(session)
        if year is None and self.seed is not None and self.seed.is_file():
            register = load_json(self.seed)
            if stored is None and self.requested_start is None:
                self.clock.set(default_start(register.year, self.settings, self.services.calendar))
            async with self.services.sessionmaker() as session, session.begin():
                await import_register(session, register, now=self.clock.now())
            self.imported_register = True
        elif stored is None and self.requested_start is None and year is not None:
            self.clock.set(default_start(year, self.settings, self.services.calendar))
        await self._save(CLOCK_KEY, {"at": self.clock.now().isoformat()})

    async def _continue_numbering(self) -> None:
        """A restarted emulator must not reuse ids the bot has stored.

        The bot drops an update whose id is already in its inbox, and finds reminders by their
        message id: the emulator's update ids and the personas' message ids continue after the
        highest ones the database knows.
        """
        async with self.services.sessionmaker() as session:
            last_update = await session.scalar(select(func.max(InboxUpdate.update_id)))
            last_message = max(
                int(await session.scalar(select(func.max(OutboxMessage.tg_message_id))) or 0),
                int(await session.scalar(select(func.max(ReportDraft.card_message_id))) or 0),
                max(
                    (_message_id(p) for p in await session.scalars(select(InboxUpdate.payload))),
                    default=0,
                ),
            )
        assert self.server is not None
        emulator = self.server.emulator
        if last_update is not None:
            # The emulator has no public setting for this yet (see the module docstring).
            emulator._update_ids = itertools.count(int(last_update) + 1)
        for persona in self.personas.values():
            chat = emulator.get_chat(persona.chat)
            chat.next_message_id = max(chat.next_message_id, last_message + 1)

    async def _restore_or_bind_personas(self) -> None:
        stored = await self._state(PERSONAS_KEY)
        if stored is not None:
            for data in stored.get("personas", []):
                persona = Persona.from_json(data)
                if persona.is_group:
                    await self._recreate_group(persona)
                else:
                    await self._recreate_user(persona)
                self.personas[persona.key] = persona
            self._new_people = int(stored.get("new_people", 0))
            await self._continue_numbering()
            return
        for spec in PERSONAS:
            persona = Persona(spec.key, spec.label, spec.name, spec.group, spec.user_id)
            if await self._bind(persona, spec):
                self.personas[persona.key] = persona
        if "admin" in self.personas:
            await self._open_work_group()
        await self._save_personas()

    async def _open_work_group(self) -> None:
        """The admin adds the bot to a work group, which the bot registers for its 通报."""
        members = [p.user_id for p in self.personas.values()]
        chat_id = await self.control.create_group(GROUP_TITLE, members, creator_id=ADMIN_USER_ID)
        await self.control.add_bot_to_group(chat_id, ADMIN_USER_ID)
        await self.control.wait_for_bot_message(chat_id, timeout=15.0)
        group = Persona(GROUP_KEY, "督办工作群", GROUP_TITLE, "工作群", ADMIN_USER_ID, chat_id)
        self.personas[group.key] = group
        self.stamp_all()

    async def _recreate_group(self, group: Persona) -> None:
        """After a restart: the same group with the bot in it, as the database remembers."""
        members = [p.user_id for p in self.personas.values() if not p.is_group]
        await self.control.create_group(
            group.name, members, chat_id=group.chat, creator_id=group.user_id
        )
        assert self.server is not None
        # Membership only: adding the bot again would make it register the group again.
        self.server.emulator.get_chat(group.chat).bot_status = "member"

    async def _save_personas(self) -> None:
        await self._save(
            PERSONAS_KEY,
            {
                "personas": [p.to_json() for p in self.personas.values()],
                "new_people": self._new_people,
            },
        )

    async def _recreate_user(self, persona: Persona) -> None:
        """After a restart: the same Telegram user again, chat open, menu as the bot set it."""
        await self.control.create_user(persona.name, user_id=persona.user_id)
        await self.control.start_bot(persona.user_id, send_command=False)
        assert self.runtime is not None and self.runtime.application is not None
        async with self.services.sessionmaker() as session:
            principal = await people.principal(session, persona.user_id)
        if principal.bound:
            await set_menu_for(self.runtime.application.bot, persona.user_id, principal)

    async def invite(
        self, role: Role, *, unit: str | None = None, leader: str | None = None
    ) -> str | None:
        """A real single-use invite's code for this role (None if the unit or leader is not
        in the register), as the admin's /invite makes."""
        async with self.services.sessionmaker() as session, session.begin():
            unit_ref: UnitRef | None = await people.find_unit(session, unit) if unit else None
            leader_ref: LeaderRef | None = (
                await people.find_leader(session, leader) if leader else None
            )
            if (unit and unit_ref is None) or (leader and leader_ref is None):
                return None
            created = await people.create_invite(
                session,
                role=role,
                now=self.clock.now(),
                ttl=timedelta(hours=self.settings.invite_ttl_hours),
                unit=unit_ref,
                leader=leader_ref,
            )
        return created.code

    async def _bind(self, persona: Persona, spec: PersonaSpec) -> bool:
        """Create a real invite and let the persona send ``/start <code>`` through the emulator."""
        code = await self.invite(spec.role, unit=spec.unit, leader=spec.leader)
        if code is None:
            log.warning("sandbox persona %s skipped: not in the register", spec.label)
            return False
        await self.control.create_user(persona.name, user_id=persona.user_id)
        await self.control.start_bot(persona.user_id, payload=code)
        await self.control.wait_for_bot_message(persona.user_id, timeout=15.0)
        self.stamp_all()
        return True

    # ------------------------------------------------------------------ people

    def persona(self, key: str) -> Persona:
        """The persona with this key (SandboxError if none)."""
        persona = self.personas.get(key)
        if persona is None:
            raise SandboxError("没有这个角色")
        return persona

    async def new_person(self) -> Persona:
        """A new Telegram user who has opened the bot's chat but is bound to nothing."""
        self._new_people += 1
        number = self._new_people
        user_id = FIRST_NEW_PERSON_ID + number - 1
        persona = Persona(f"new{number}", f"新用户 {number}", f"新用户{number}", UNBOUND, user_id)
        await self.control.create_user(persona.name, user_id=user_id)
        await self.control.start_bot(user_id, send_command=False)
        self.personas[persona.key] = persona
        await self._save_personas()
        return persona

    async def refresh_personas(self) -> bool:
        """List each person under what they are bound as now; True if a label changed.

        A new person who redeemed an invite moves from 未绑定 to their role, labelled with the
        unit or leader they were bound to; someone whose binding was revoked moves to 未绑定.
        Checked when the emulator shows something new (a binding is answered by the bot) or
        someone is still unbound, never while a step runs (the jobs bind nobody).
        """
        version = int(await self.control.call("version"))
        waiting = any(p.group == UNBOUND for p in self.personas.values())
        if self.busy or (version == self._labels_checked_at and not waiting):
            return False
        self._labels_checked_at = version
        changed = False
        async with self.services.sessionmaker() as session:
            for key, persona in list(self.personas.items()):
                if persona.is_group:
                    continue
                found = bound_as(await people.principal(session, persona.user_id))
                if found is not None:
                    label, group = found
                else:
                    label, group = persona.label, UNBOUND
                if (label, group) != (persona.label, persona.group):
                    self.personas[key] = dataclasses.replace(persona, label=label, group=group)
                    changed = True
        if changed:
            await self._save_personas()
        return changed

    async def send(self, key: str, text: str, *, reply_to: int | None = None) -> int:
        """The persona writes `text` (optionally replying to a message); returns its id."""
        persona = self.persona(key)
        if persona.is_group:
            raise SandboxError("工作群仅供查看，请与机器人私聊")
        if not text.strip():
            raise SandboxError("消息不能为空")
        if len(text) > MAX_TEXT:
            raise SandboxError(f"消息过长（最多{MAX_TEXT}字）")
        message = await self.control.send_message(persona.user_id, text, reply_to=reply_to)
        self.stamp_all()
        return message.message_id

    async def attach(
        self,
        key: str,
        filename: str,
        data: bytes,
        *,
        mime_type: str | None = None,
        reply_to: int | None = None,
    ) -> int:
        """The persona sends a file; a JPEG or PNG goes as a photo, as Telegram's apps send
        pictures. Returns its message id."""
        persona = self.persona(key)
        if persona.is_group:
            raise SandboxError("工作群仅供查看，请与机器人私聊")
        if not data:
            raise SandboxError("文件为空")
        if len(data) > MAX_FILE:
            raise SandboxError(f"文件过大（沙盒最多{MAX_FILE // (1024 * 1024)}MB）")
        if mime_type in PHOTO_TYPES:
            message = await self.control.send_photo(persona.user_id, data, reply_to=reply_to)
        else:
            message = await self.control.send_document(
                persona.user_id, filename, data, mime_type=mime_type, reply_to=reply_to
            )
        self.stamp_all()
        return message.message_id

    async def press(self, key: str, message_id: int, data: str) -> dict[str, Any]:
        """The persona presses an inline button; returns the bot's answer (toast or alert)."""
        persona = self.persona(key)
        if persona.is_group:
            raise SandboxError("工作群仅供查看，请与机器人私聊")
        query = await self.control.press_button(persona.user_id, message_id, data=data)
        try:
            answer = await self.control.wait_for_callback_answer(query.id, timeout=10.0)
        except TimeoutError:
            return {"answered": False, "text": None, "show_alert": False}
        return {"answered": True, "text": answer.text, "show_alert": answer.show_alert}

    async def transcript(self, key: str) -> list[TranscriptMessage]:
        """The persona's private chat with the bot (documents without their bytes)."""
        persona = self.persona(key)
        messages = await self.control.transcript(persona.chat, with_data=False)
        self._stamp(persona.chat, messages)
        return messages

    async def document(self, key: str, message_id: int) -> tuple[str, str, bytes]:
        """A file the bot sent to this persona: (filename, mime type, bytes)."""
        persona = self.persona(key)
        for message in await self.control.transcript(persona.chat, with_data=True):
            doc = message.document
            if message.message_id == message_id and doc is not None and doc.data is not None:
                mime = doc.mime_type or "application/octet-stream"
                return doc.filename or f"file_{message_id}", mime, doc.data
        raise SandboxError("没有这个文件")

    async def commands(self, key: str) -> list[dict[str, Any]]:
        """The command menu this persona sees."""
        persona = self.persona(key)
        if persona.is_group:
            return []
        return await self.control.visible_commands(persona.user_id, persona.user_id)

    def stamped(self, chat_id: int, message_id: int) -> datetime | None:
        """The simulated time a message appeared at."""
        return self._stamps.get(chat_id, {}).get(message_id)

    def _stamp(self, chat_id: int, messages: list[TranscriptMessage]) -> None:
        seen = self._stamps.setdefault(chat_id, {})
        now = self.clock.now()
        for message in messages:
            seen.setdefault(message.message_id, now)

    def stamp_all(self) -> None:
        """Record the simulated time of every message not seen yet (before the clock moves)."""
        assert self.server is not None
        emulator = self.server.emulator
        now = self.clock.now()
        for persona in self.personas.values():
            seen = self._stamps.setdefault(persona.chat, {})
            if persona.chat not in emulator.chats:
                continue
            for message in emulator.iter_messages(persona.chat):
                seen.setdefault(message.message_id, now)

    # ------------------------------------------------------------------ time

    def clock_facts(self) -> dict[str, Any]:
        """The clock panel: simulated date, weekday, time, workday, and the jump to today."""
        facts = describe(self.clock.now(), tz=self.settings.tz, calendar=self.services.calendar)
        facts["real_today_ahead"] = self._real_now() > self.clock.now() + timedelta(minutes=1)
        facts["generation"] = self.clock_generation
        facts["busy"] = self.busy
        facts["progress"] = self.progress
        return facts

    async def wait_clock(self, generation: int, seconds: float) -> None:
        """Return when the clock moved past `generation` or after `seconds`."""
        if self.clock_generation != generation:
            return
        event = self._clock_moved
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return

    def _moved(self) -> None:
        self.clock_generation += 1
        event, self._clock_moved = self._clock_moved, asyncio.Event()
        event.set()

    async def advance(self, step: Step) -> dict[str, Any]:
        """Move the clock by one of the panel's steps, running the jobs at each checkpoint."""
        settings = self.settings
        async with self._advance_lock:
            start = self.clock.now()
            target = target_for(
                step,
                start,
                tz=settings.tz,
                calendar=self.services.calendar,
                reminder_time=settings.reminder_time,
                real_now=self._real_now(),
            )
            if target is None:
                raise SandboxError("模拟时间已晚于今天，无法跳转")
            points = checkpoints(
                start,
                target,
                tz=settings.tz,
                job_times=(settings.summary_time, settings.reminder_time),
            )
            self.busy = True
            local = target.astimezone(settings.tz)
            to = f"{local.month}月{local.day}日 {local:%H:%M}"  # short: one line on a phone
            self.progress = {"to": to, "done": 0, "total": len(points), "sent": 0}
            sent = 0
            try:
                for done, point in enumerate(points, 1):
                    self.stamp_all()
                    self.clock.set(point)
                    self._moved()
                    last_day = point.astimezone(settings.tz).date() == local.date()
                    sent += await self.run_jobs(charts=last_day)
                    self.stamp_all()
                    self.progress = {**self.progress, "done": done, "sent": sent}
            finally:
                self.busy = False
                self.progress = None
                await self._save(CLOCK_KEY, {"at": self.clock.now().isoformat()})
                self._moved()
        return {"from": start.isoformat(), "checkpoints": len(points), "sent": sent}

    async def run_jobs(self, *, charts: bool = True) -> int:
        """What the scheduler would run at the clock's time, then deliver; returns messages sent.

        The jobs decide themselves whether anything is due (workdays, summary window, what was
        already sent), as they do under the real scheduler. The sender's own loop may deliver
        part of it meanwhile; its runs take turns, so nothing goes twice.

        Not `charts`: the digests go without their charts (DIGEST_CHARTS), as on the days a
        long step passes over: each morning's charts start a renderer (~2 s), and a month's
        step shows the day it stops on, with that morning's charts.
        """
        services = self.services
        if not charts and services.settings.digest_charts:
            settings = services.settings.model_copy(update={"digest_charts": False})
            services = dataclasses.replace(services, settings=settings)
        await run_summaries(services, None)
        await run_planning(self.services, None, self.overrides)
        stats = await self.sender.run_once()
        return int(stats.sent)
