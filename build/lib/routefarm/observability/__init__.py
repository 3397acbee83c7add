"""What the farm tells its operators: metrics (``metrics``), how each process exposes them
(``exposition``), JSON log lines (``logs``) and the jobs-per-second counter (``throughput``)."""
