"""The case-or-rule lab: splits (Leave-Square-Out, length), runs that train tiny models and
probe them cell by cell, the paper's own split files, plots and exports for fine-tuning."""
