"""esep.core: see docs/ARCHITECTURE.md."""
