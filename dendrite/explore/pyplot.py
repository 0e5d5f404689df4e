"""matplotlib's pyplot for the explorers' figures, without taking over the user's backend.

The explorers draw with pyplot. In a Jupyter notebook the inline backend is already chosen (pyplot is
loaded, or ``MPLBACKEND`` names it): switching it to Agg there would silence every later picture of
the notebook, the learner's own ``plt.show()`` included. So Agg is chosen only when nobody has chosen
yet: a script or the ``dendrite explore`` command, where the figures are saved to files and a window
backend would need a display.
"""

from __future__ import annotations

import os
import sys

__all__ = ["pyplot"]


def pyplot(needed_for: str = "the explorers' figures"):
    """``matplotlib.pyplot``, switched to Agg only if no backend was chosen; an ImportError naming the extra.

    Example:
        >>> pyplot().__name__
        'matplotlib.pyplot'
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{needed_for} need matplotlib: pip install 'dendrite[train]'") from None
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
