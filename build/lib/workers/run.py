"""The worker command: Dramatiq's command line, with the farm's JSON log lines from its
supervising process too (Dramatiq's own parent would log plain text).

    python -m workers.run workers.main:setup --processes 1 --threads 1 --queues solve

Every argument is Dramatiq's; ``--skip-logging`` is added, so the JSON handler configured
here is what the supervisor and, inherited through fork, its worker processes log with
until ``workers.main.setup`` names their process.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    from routefarm.observability.logs import configure_logging
    from routefarm.settings import Settings

    configure_logging("worker", Settings().log_level)
    args = make_argument_parser().parse_args(["--skip-logging", *(sys.argv[1:] if argv is None else argv)])
    return dramatiq_main(args) or 0


if __name__ == "__main__":
    sys.exit(main())
