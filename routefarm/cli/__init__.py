"""The ``routefarm`` command line: the group and the solver commands (``main``), what every
command shares (``common``), the farm's operator commands (``farm``) and its Kafka ones
(``kafka``); ``routefarm up`` lives with the local farm (``routefarm.local.command``)."""
