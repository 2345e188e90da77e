"""Figures built with seaborn and matplotlib.

Every function returns the matplotlib Axes (or Figure) it drew on and never calls
``plt.show()``, so notebooks, tests and users' scripts decide what to do with it.
Colours come from seaborn's colour-blind palette.
"""
from crmlab.plots.firms import plot_firms
