"""routefarm's core shared by the API and the workers: settings, job lifecycle, storage, CLI."""
