"""Showing results: terminal output, figures, maps and HTML reports; never builds a model."""
