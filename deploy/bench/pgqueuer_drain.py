"""PgQueuer's drain benchmark, as PgQueuer's documentation describes it (docs/comparisons/benchmarks.md,
"Drain Strategy"): enqueue a fixed number of no-op jobs, then time how long consumers take to empty
the queue. Here the consumers are --processes operating-system processes (Python runs one core per
process), each one PgQueuer on its own asyncpg connection dequeuing batches of --batch-size.

The database comes from the standard libpq environment variables (PGHOST, PGPORT, PGUSER,
PGDATABASE, PGPASSFILE, ...), never from the command line. Prints one JSON object.
"""

import argparse
import asyncio
import json
import multiprocessing
import time

import asyncpg
import uvloop
from pgqueuer import PgQueuer, types
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

ENTRYPOINT = "noop"


async def prepare(jobs: int) -> None:
    """Installs PgQueuer's schema when missing, empties its queue and log, enqueues the jobs."""
    connection = await asyncpg.connect()
    try:
        queries = Queries(AsyncpgDriver(connection))
        if not await queries.schema_is_installed():
            await queries.install()
        await queries.clear_queue()
        await queries.clear_statistics_log()
        for start in range(0, jobs, 5000):
            count = min(5000, jobs - start)
            await queries.enqueue([ENTRYPOINT] * count, [None] * count, [0] * count)
    finally:
        await connection.close()


async def remaining() -> int:
    """The jobs still in PgQueuer's queue."""
    connection = await asyncpg.connect()
    try:
        return sum(row.count for row in await Queries(AsyncpgDriver(connection)).queue_size())
    finally:
        await connection.close()


async def consume(batch_size: int, start) -> None:
    """One consumer: a PgQueuer with a no-op entrypoint, draining from when `start` is passed."""
    connection = await asyncpg.connect()
    pgq = PgQueuer(AsyncpgDriver(connection))

    @pgq.entrypoint(ENTRYPOINT)
    async def noop(job) -> None:
        pass

    start.wait()
    await pgq.run(batch_size=batch_size, mode=types.QueueExecutionMode.drain)
    await connection.close()


def consumer_process(batch_size: int, start) -> None:
    """A consumer's process: its own event loop."""
    uvloop.run(consume(batch_size, start))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=50_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    options = parser.parse_args()

    uvloop.run(prepare(options.jobs))
    start = multiprocessing.Barrier(options.processes + 1)
    consumers = [
        multiprocessing.Process(target=consumer_process, args=(options.batch_size, start))
        for _ in range(options.processes)
    ]
    for consumer in consumers:
        consumer.start()
    start.wait()
    began = time.monotonic()
    for consumer in consumers:
        consumer.join()
    seconds = time.monotonic() - began
    left = uvloop.run(remaining())
    if left or any(consumer.exitcode for consumer in consumers):
        raise SystemExit(f"PgQueuer left {left} jobs; consumer exit codes {[c.exitcode for c in consumers]}")
    print(json.dumps({"jobs": options.jobs, "processes": options.processes, "batch_size": options.batch_size,
                      "seconds": seconds, "jobs_per_s": options.jobs / seconds}))


if __name__ == "__main__":
    main()
