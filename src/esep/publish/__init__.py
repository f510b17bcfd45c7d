"""esep.publish: see docs/ARCHITECTURE.md."""
