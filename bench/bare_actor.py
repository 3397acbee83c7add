"""A bare Dramatiq actor doing the farm's solve, on the farm's broker (same class, URL, namespace).

    dramatiq_queue_prefetch=1 dramatiq_worker_timeout=5 \\
        dramatiq bench.bare_actor --processes 1 --threads 1 --queues bench_bare

No database, no lease, no cache: it parses the problem carried in the message, solves it and
publishes ``<wall time>`` on ``bench:bare:done:<tag>`` (the benchmark counts those).
Settings come from ``ROUTEFARM_*`` like the real workers.
"""

from __future__ import annotations

import dramatiq
import redis

from optimizer import parse_problem
from optimizer.engines import engine
from routefarm.broker import make_broker
from routefarm.settings import Settings

QUEUE = "bench_bare"
ACTOR = "bare_solve"
DONE = "bench:bare:done:"

settings = Settings()
broker = make_broker(settings)
broker.declare_queue(QUEUE)
dramatiq.set_broker(broker)
_redis = redis.Redis.from_url(settings.cache_url)


@dramatiq.actor(actor_name=ACTOR, queue_name=QUEUE, max_retries=0, time_limit=60_000)
def bare_solve(tag: str, problem: dict) -> None:
    solution = engine("ortools").solve(parse_problem(problem), time_limit=0.1)
    _redis.publish(DONE + tag, str(solution.solver.wall_time))
