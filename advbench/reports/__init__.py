"""Read-only rendering of a run folder: AUC tables (Markdown, LaTeX), paper comparison, figures."""
