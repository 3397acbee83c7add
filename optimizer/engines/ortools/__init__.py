"""The OR-Tools engine (``engine.OrToolsEngine``): OR-Tools' routing solver over an exact model
of the problem, or region by region when it is large. Nothing of OR-Tools leaves this package."""
