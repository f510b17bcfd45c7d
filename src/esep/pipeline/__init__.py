"""esep.pipeline: see docs/ARCHITECTURE.md."""
