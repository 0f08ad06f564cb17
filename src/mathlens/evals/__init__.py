"""The evaluation harness: math benchmarks, prompt templates, resumable eval runs, reports,
and a word-problem world small enough to evaluate on a laptop."""
