"""Reading evaluated runs: paper-style tables and interpretable-vs-ordinary twin comparisons."""
