"""Helper package of the book *Is MSE a sound VAE reconstruction term?*.

Every chapter imports what it needs from here, so that no loss, model or training loop is
written twice. Each function's docstring names the chapter that introduces it.
"""

__version__ = "0.1.0"
