"""Interactive ipywidgets views layered on crmlab's pure compute functions."""
