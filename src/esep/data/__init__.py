"""esep.data: see docs/ARCHITECTURE.md."""
