"""mathlens: a lab for how transformers do mathematics, by case or by rule."""

__version__ = "0.1.0"
