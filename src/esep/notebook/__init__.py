"""esep.notebook: see docs/ARCHITECTURE.md."""
