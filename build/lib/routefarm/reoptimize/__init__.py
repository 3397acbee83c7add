"""Re-optimization: what happened since a job was solved (``request``), the problem derived
from it (``derive``, with ``reports`` for the parts a request names), and its submission as
one job (``submit``) or as a batch over many jobs (``batch``)."""
