"""Benchmark runs and their reports: AUC tables (Markdown, LaTeX), paper comparison, figures."""
