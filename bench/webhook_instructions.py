"""The webhook path counted in instructions, which do not depend on what else the machine runs:
bench/webhook.py's two bots (stvs-bot on SQLite and a bare aiogram echo bot, both answering the
local fake Bot API) each serve under valgrind's callgrind, and the instructions an update costs are
what one more batch of updates adds (a run with two measured batches minus a run with one, so that
start-up and the users' first contacts cancel out). Prints figures; asserts nothing.

    python -m bench.webhook_instructions [--updates 300] [--concurrency 8]

The ratio printed is the echo bot's instructions per update over stvs-bot's: the share of the bare
bot's throughput stvs-bot would reach where the CPU is what limits both. It takes some minutes:
everything runs about fifty times slower under callgrind. Needs valgrind (Debian: valgrind).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import signal
import sys
import tempfile
from pathlib import Path

import aiohttp

from bench.webhook import PORTS, _seed, load, users_for, workload
from tests.fakes.telegram_api import FakeTelegramAPI

STARTUP_SECONDS = 900  # imports and migrations, under callgrind


async def _started(url: str, process: asyncio.subprocess.Process) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(STARTUP_SECONDS * 2):
            if process.returncode is not None:
                raise RuntimeError(f"the server exited with {process.returncode}")
            try:
                async with session.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.5)
    raise RuntimeError("the server did not start")


async def instructions(kind: str, api_base: str, n: int, concurrency: int, batches: int) -> int:
    """The instructions the ``kind`` server ran, from start to stop, for the first contacts of the
    workload's users and then ``batches`` measured batches of ``n`` updates."""
    with tempfile.TemporaryDirectory() as tmp:
        activity_ids = iter(await _seed(tmp, users_for(n), batches + 1))
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={out}",
            "--dump-instr=no",
            sys.executable,
            "-m",
            "bench.webhook",
            "--serve",
            kind,
            tmp,
            api_base,
        ]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{PORTS[kind]}/telegram/webhook"
        try:
            await _started(url, process)
            await load(url, workload(n, next(activity_ids), 1), concurrency)
            for batch in range(batches):
                await load(url, workload(n, next(activity_ids), (batch + 1) * 10**6), concurrency)
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), 600)
        totals = re.search(r"^(?:totals|summary): (\d+)", out.read_text(), re.M)
        if totals is None:
            raise RuntimeError("callgrind wrote no totals")
        return int(totals[1])


async def main(n: int, concurrency: int) -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    per_update = {}
    async with FakeTelegramAPI() as api:
        for kind in ("echo", "stvs"):
            one = await instructions(kind, api.base_url, n, concurrency, 1)
            two = await instructions(kind, api.base_url, n, concurrency, 2)
            per_update[kind] = (two - one) / n
            print(f"{kind:>5}: {per_update[kind] / 1e6:7.2f} M instructions per update ({n} updates)")
    print(f"ratio: {per_update['echo'] / per_update['stvs']:.2f} of the bare bot's updates per instruction")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.updates, args.concurrency))
