"""Webhook delivery: POST each pending update to the webhook URL, retrying until it answers 2xx."""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from bot.emulator.state import Emulator, dumps, now_ts

_LOGGER = logging.getLogger(__name__)
_MAX_BACKOFF = 5.0


def ensure_delivery(emu: Emulator) -> None:
    """Start the webhook delivery task if it is not running (needs a running loop)."""
    if emu.webhook_task is None or emu.webhook_task.done():
        emu.webhook_task = asyncio.get_running_loop().create_task(deliver_forever(emu))


async def deliver_forever(emu: Emulator) -> None:
    """Deliver pending updates in order while a webhook is set; runs until the emulator closes."""
    delay = emu.webhook_retry_delay
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not emu.closing:
            hook = emu.webhook
            if hook is None or not emu.pending:
                await emu.updates_pulse.wait(None)
                continue
            item = emu.pending[0]
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
            error: str | None = None
            try:
                async with session.post(hook.url, data=dumps(item.data), headers=headers) as resp:
                    await resp.read()
                    if not 200 <= resp.status < 300:
                        error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc.__class__.__name__}: {exc}"
            if error is None:
                if emu.pending and emu.pending[0] is item:
                    emu.pending.pop(0)
                emu.touch()
                delay = emu.webhook_retry_delay
                continue
            _LOGGER.info("webhook delivery of update %s failed: %s", item.update_id, error)
            hook.last_error_date = now_ts()
            hook.last_error_message = error
            emu.touch()
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_BACKOFF)
