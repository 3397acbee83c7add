"""The OR-Tools engine: OR-Tools' routing solver on the whole problem, or in regions when it
is large (``decompose``). Nothing of OR-Tools leaves this package."""
