"""The local farm behind ``routefarm up``: embedded Postgres and Redis, and a supervisor
that runs the Procfile's processes the way Kubernetes runs pods (restart on death, SIGTERM
then SIGKILL on stop). Nothing here starts or reads anything at import time.
"""
