"""esep: reproducible education-analytics reports (papermill + nbconvert)."""
__version__ = "0.1.0"
