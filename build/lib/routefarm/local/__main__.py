"""``python -m routefarm.local`` is ``routefarm up``."""

from .command import up

if __name__ == "__main__":
    up(prog_name="routefarm up")
