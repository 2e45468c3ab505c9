"""Run the emulator standalone: ``python -m bot.emulator --port 8081``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from bot.emulator.limits import RateLimitConfig
from bot.emulator.server import EmulatorServer
from bot.emulator.state import DEFAULT_TOKEN, Emulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bot.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the bot token to accept")
    parser.add_argument("--bot-username", default="duban_test_bot")
    parser.add_argument("--bot-name", default="督办助手")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument(
        "--rate-limits", action="store_true", help="enforce Telegram's flood limits"
    )
    parser.add_argument("--speedup", type=float, default=1.0, help="scale the flood limits")
    parser.add_argument(
        "--no-privacy", action="store_true", help="the bot sees every group message"
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT/SIGTERM."""
    emu = Emulator(
        args.token,
        bot_first_name=args.bot_name,
        bot_username=args.bot_username,
        privacy_mode=not args.no_privacy,
        fault_seed=args.fault_seed,
    )
    if args.rate_limits:
        emu.limiter.configure(RateLimitConfig(enabled=True, speedup=args.speedup))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with EmulatorServer(emu, host=args.host, port=args.port) as server:
        print(f"Bot API emulator on {server.url}", flush=True)
        print(f"  base_url={server.base_url}  base_file_url={server.base_file_url}", flush=True)
        print(f"  token={server.token}  control={server.url}/_control/<op>", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(parse_args(argv)))


if __name__ == "__main__":
    main()
