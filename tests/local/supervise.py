"""Run every process of a Procfile under the local farm's Supervisor until SIGINT/SIGTERM.

Used by the supervisor tests as a real parent process: ``python supervise.py PROCFILE [GRACE]``.
"""

import sys
from pathlib import Path

from routefarm.local.lifecycle import Signals
from routefarm.local.output import Output
from routefarm.local.procfile import read_procfile
from routefarm.local.supervisor import ProcessSpec, Supervisor


def main() -> None:
    procfile = Path(sys.argv[1])
    grace = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    specs = [ProcessSpec(f"{name}.1", command) for name, command in read_procfile(procfile).items()]
    signals = Signals().install()
    supervisor = Supervisor(specs, cwd=procfile.parent, output=Output(sys.stdout, color=False), grace=grace)
    supervisor.run(signals.stop, signals.hurry)
    print("supervisor done", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
