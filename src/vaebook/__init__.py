"""Helper package of the book *Is MSE a sound VAE reconstruction term?*.

Every chapter imports what it needs from here, so that no loss, model or training loop is
written twice. Each function's docstring names the chapter that introduces it.
"""

__version__ = "0.2.0"


def __getattr__(name: str):
    """``vaebook.audit_loss`` and ``vaebook.LossAudit``, imported on first use (torch is slow
    to import, and ``python -m vaebook.lab_settings`` does not need it)."""
    if name in ("audit_loss", "LossAudit"):
        from vaebook import audit

        return getattr(audit, name)
    raise AttributeError(f"module 'vaebook' has no attribute {name!r}")
