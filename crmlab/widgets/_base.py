"""What every crmlab widget shares: labelled controls, a readout, a redrawn figure.

A widget is a :class:`Dashboard` (an ``ipywidgets.VBox``) whose subclass says how to
turn the controls' values into a result with crmlab's pure functions
(:meth:`Dashboard.compute`), how to write that result as HTML
(:meth:`Dashboard.render`) and, optionally, how to draw it (:meth:`Dashboard.draw`).
The base wires the controls, catches the ``ValueError`` that crmlab raises on bad
input and shows its message instead of a traceback, and redraws the figure into an
``ipywidgets.Image`` as PNG (no pyplot state, nothing displayed twice).

With ``projector=True`` a dashboard is laid out for a room: larger type, a larger
figure placed above the controls (see :meth:`Dashboard.projector_children`), and
sliders that stretch over the width of the page so that a drag moves them in steps
one can follow; everything fits a 1280×720 screen.

Readouts are easy to find for tests and browsers: every number shown sits in a
``<span class="crmlab-…" data-value="…">`` whose ``data-value`` carries the exact
value, and the widget, its readout and its image carry stable CSS classes.
"""

from __future__ import annotations

import contextlib
import html
import io
import math
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "BlittedFigure",
    "Dashboard",
    "animated_artists",
    "figure_png",
    "float_slider",
    "int_slider",
    "number_span",
]

#: Width given to control labels so that they are read in full.
LABEL_STYLE = {"description_width": "17em"}
CONTROL_LAYOUT = {"width": "34em"}

#: Projector mode: figures drawn at this resolution (text grows with it) and font size.
PROJECTOR_DPI = 100
PROJECTOR_RC = {"font.size": 12}
#: Larger type and controls for a room, scoped to the widget: ipywidgets sizes its
#: controls with these CSS variables, so setting them on the widget scales them all.
PROJECTOR_CSS = """
.crmlab-projector {
  --jp-widgets-font-size: 18px;
  --jp-widgets-inline-height: 34px;
  --jp-widgets-slider-handle-size: 20px;
  font-size: 18px;
}
.crmlab-projector .widget-html-content { font-size: 18px; line-height: 1.35; }
.crmlab-projector h3 { font-size: 26px; margin: 0 0 6px 0; }
.crmlab-projector p, .crmlab-projector ul { margin-top: 2px; margin-bottom: 4px; }
.crmlab-projector td, .crmlab-projector th { padding: 0 0.3em !important; white-space: nowrap; }
.crmlab-projector tr:first-child th { white-space: normal; }
"""


def _labelled_slider(
    kind: type[widgets.Widget],
    css_class: str | None,
    **options: Any,
) -> widgets.Widget:
    slider = kind(style=LABEL_STYLE, layout=CONTROL_LAYOUT, **options)
    if css_class:
        slider.add_class(css_class)
    return slider


def float_slider(
    description: str,
    value: float,
    minimum: float,
    maximum: float,
    step: float,
    *,
    readout_format: str = ".2f",
    continuous_update: bool = False,
    css_class: str | None = None,
) -> widgets.FloatSlider:
    """A labelled float slider that sends its value when released (debounced)."""
    return _labelled_slider(
        widgets.FloatSlider,
        css_class,
        value=value,
        min=minimum,
        max=maximum,
        step=step,
        description=description,
        readout_format=readout_format,
        continuous_update=continuous_update,
    )


def int_slider(
    description: str,
    value: int,
    minimum: int,
    maximum: int,
    *,
    step: int = 1,
    continuous_update: bool = False,
    css_class: str | None = None,
) -> widgets.IntSlider:
    """A labelled integer slider that sends its value when released (debounced)."""
    return _labelled_slider(
        widgets.IntSlider,
        css_class,
        value=value,
        min=minimum,
        max=maximum,
        step=step,
        description=description,
        continuous_update=continuous_update,
    )


def format_number(value: float, decimals: int = 2, *, unit: str = "") -> str:
    """Readable number: thousands separators, ∞ for infinity, a dash for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    text = f"{value:,.{decimals}f}"
    return f"{text} {unit}".strip()


def number_span(css_class: str, value: float, decimals: int = 2, *, unit: str = "") -> str:
    """HTML for one number: shown rounded, exact in ``data-value``."""
    exact = "nan" if value is None else repr(float(value))
    return (
        f'<span class="{css_class}" data-value="{exact}">'
        f"{html.escape(format_number(value, decimals, unit=unit))}</span>"
    )


def _agg_canvas(figure: Figure, dpi: int | None) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    if dpi is not None and figure.get_dpi() != dpi:
        figure.set_dpi(dpi)
    return figure.canvas


def _encode_png(figure: Figure) -> bytes:
    import numpy as np
    from PIL import Image

    pixels = np.asarray(figure.canvas.buffer_rgba())
    buffer = io.BytesIO()
    # Light compression: at the default level encoding costs as much as drawing a panel.
    Image.fromarray(pixels).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def figure_png(figure: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes, for an ``ipywidgets.Image``.

    The figure keeps one Agg canvas across calls: its renderer and text layouts are
    reused, which halves the cost of a redraw compared with ``savefig``. Artists
    marked ``set_animated(True)``, which a plain draw leaves out, are drawn too.
    """
    return BlittedFigure().png(figure, key=None, dpi=dpi)


def animated_artists(figure: Figure) -> list[Any]:
    """The artists of ``figure`` marked ``set_animated(True)``, axes by axes, in z-order."""
    found = []
    for ax in figure.axes:
        moving = [artist for artist in ax.get_children() if artist.get_animated()]
        found.extend(sorted(moving, key=lambda artist: artist.get_zorder()))
    return found


class BlittedFigure:
    """Redraws only what moves: the still part of a figure is painted once and kept.

    A widget's figure has a still part (axes frames, fixed axes, labels, legends) and a
    moving part (lines, an axis whose limits follow the data): the artists marked
    ``set_animated(True)``. Rendering text is most of the cost of a redraw, so the
    still part is painted only when its ``key`` changes; otherwise its pixels are
    restored and the moving artists drawn over them. ``key=None`` paints everything.
    """

    def __init__(self) -> None:
        self._background: Any = None
        self._key: Any = None

    def png(self, figure: Figure, key: Any = None, dpi: int | None = None) -> bytes:
        """PNG bytes of ``figure``, with the still part reused while ``key`` is unchanged."""
        canvas = _agg_canvas(figure, dpi)
        if key is None or key != self._key or self._background is None:
            canvas.draw()  # everything but the animated artists
            self._background = canvas.copy_from_bbox(figure.bbox) if key is not None else None
            self._key = key
        else:
            canvas.restore_region(self._background)
        for artist in animated_artists(figure):
            figure.draw_artist(artist)
        return _encode_png(figure)


class Dashboard(widgets.VBox):
    """Controls on top, an HTML readout, and an optional figure, kept in step.

    Subclasses implement :meth:`compute` and :meth:`render`, and :meth:`draw` when
    ``plot=True``. After each change of a control, :attr:`result` holds what
    :meth:`compute` returned and :attr:`error` the message of a refused input
    (``None`` when all went well).

    ``projector=True`` lays the parts out for a room (see :meth:`projector_children`):
    larger type (:data:`PROJECTOR_CSS`), the figure at :data:`PROJECTOR_DPI` and
    :attr:`projector_figure_size`, sliders as wide as their column.

    Attributes
    ----------
    projector : bool
        Whether the widget is laid out for a projector.
    controls : dict
        The input widgets by name (the keyword arguments of :meth:`compute`).
    readout : ipywidgets.HTML
        The numbers and explanations shown.
    image : ipywidgets.Image or None
        The figure, redrawn as PNG after each change.
    """

    css_class = "crmlab-widget"
    title = ""
    #: True while the widget sets its own controls (see :meth:`held`).
    _holding = False
    #: Figure size (inches, at :data:`PROJECTOR_DPI`) in projector mode; ``None`` keeps it.
    projector_figure_size: tuple[float, float] | None = None
    #: Width of the sliders' labels in projector mode (long enough to read them whole).
    projector_label_width = "15em"

    def __init__(
        self,
        controls: Mapping[str, widgets.Widget],
        *,
        plot: bool = True,
        extra: list[widgets.Widget] | None = None,
        figure_size: tuple[float, float] = (9.0, 3.2),
        dpi: int = 80,
        projector: bool = False,
    ) -> None:
        self.projector = projector
        if projector:
            figure_size = self.projector_figure_size or figure_size
            dpi = PROJECTOR_DPI
        self.controls = dict(controls)
        self.readout = widgets.HTML()
        self.readout.add_class(f"{self.css_class}-readout")
        self.image = None
        if plot:
            # Shown at its own pixel size: stretched to the output's width it blurs.
            width = round(figure_size[0] * dpi)
            self.image = widgets.Image(
                format="png", layout={"width": f"{width}px", "max_width": "100%"}
            )
            self.image.add_class(f"{self.css_class}-image")
        self.result: Any = None
        self.error: str | None = None
        self._figure_size = figure_size
        self._dpi = dpi
        self._figure: Figure | None = None
        self._figure_fixed = False
        self._blitter = BlittedFigure()
        heading = widgets.HTML(f"<h3>{html.escape(self.title)}</h3>") if self.title else None
        controls_box = widgets.VBox([*self.controls.values(), *(extra or [])])
        if projector:
            self._stretch_controls()
            children = self.projector_children(heading, controls_box, self.readout, self.image)
            children.insert(0, widgets.HTML(f"<style>{PROJECTOR_CSS}</style>"))
        else:
            children = [] if heading is None else [heading]
            children.append(controls_box)
            children.append(self.readout)
            if self.image is not None:
                children.append(self.image)
        super().__init__(children=children)
        self.add_class("crmlab-widget")
        self.add_class(self.css_class)
        if projector:
            self.add_class("crmlab-projector")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.refresh()

    # -- to be written by subclasses -------------------------------------------------
    def compute(self, **values: Any) -> Any:
        """Result for the controls' values, from crmlab's pure functions."""
        raise NotImplementedError

    def render(self, result: Any) -> str:
        """HTML of the readout for ``result``."""
        raise NotImplementedError

    def draw(self, result: Any, figure: Figure) -> None:
        """Draw ``result`` on ``figure`` (cleared first by the callee)."""

    def still_key(self, result: Any) -> Any:
        """What the still part of the figure depends on; ``None`` redraws all of it.

        A subclass that marks the changing artists ``set_animated(True)`` in
        :meth:`draw` returns here a value that changes whenever anything else in the
        figure does (see :class:`BlittedFigure`). The limits of every axis that is not
        animated are added to the key by the base class.
        """
        return None

    def projector_children(
        self,
        heading: widgets.Widget | None,
        controls: widgets.Box,
        readout: widgets.HTML,
        image: widgets.Image | None,
    ) -> list[widgets.Widget]:
        """The widget's parts in projector mode: figure on top, controls beside the readout.

        A subclass whose figure is narrow may put the readout beside the figure instead.
        """
        # The controls keep their share of the width whatever the readout holds.
        controls.layout = {"flex": "0 0 50%"}
        readout.layout = {"flex": "1 1 0", "min_width": "0", "margin": "0 0 0 0.8em"}
        children = [] if heading is None else [heading]
        if image is not None:
            children.append(image)
        children.append(widgets.HBox([controls, readout], layout={"width": "100%"}))
        return children

    def _stretch_controls(self) -> None:
        # Sliders as wide as their column: on a projector a drag then moves one step
        # every few pixels instead of every pixel.
        for control in self.controls.values():
            if isinstance(control, (widgets.FloatSlider, widgets.IntSlider)):
                control.layout.width = "100%"
                control.style.description_width = self.projector_label_width

    # -- machinery -------------------------------------------------------------------
    def _text_size(self) -> contextlib.AbstractContextManager:
        # Text takes the projector's size when it is drawn; otherwise nothing changes.
        if not self.projector:
            return contextlib.nullcontext()
        from matplotlib import rc_context

        return rc_context(PROJECTOR_RC)

    def values(self) -> dict[str, Any]:
        """The current value of every control, by name."""
        return {name: control.value for name, control in self.controls.items()}

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Set controls from code without each change triggering its own refresh."""
        outer, self._holding = self._holding, True
        try:
            yield
        finally:
            self._holding = outer  # nested holds release only at the outermost

    def follow(self, change: Mapping[str, Any]) -> None:
        """Adjust other controls after a user's ``change`` (inside :meth:`held`)."""

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._holding:
            return
        with self.held():
            self.follow(change)
        self.refresh()

    def _canvas(self) -> Figure:
        if self._figure is None:
            # A bare Figure (not pyplot): the notebook backend never shows it twice.
            from matplotlib.figure import Figure

            self._figure = Figure(figsize=self._figure_size, dpi=self._dpi, layout="constrained")
            self._figure_fixed = False
        return self._figure

    def _full_still_key(self, result: Any, figure: Figure) -> Any:
        key = self.still_key(result)
        if key is None:
            return None
        limits = tuple(
            (
                None if ax.xaxis.get_animated() else ax.get_xlim(),
                None if ax.yaxis.get_animated() else ax.get_ylim(),
            )
            for ax in figure.axes
        )
        return (key, limits, figure.get_dpi())

    def refresh(self) -> None:
        """Recompute, rewrite the readout and redraw the figure."""
        try:
            result = self.compute(**self.values())
        except ValueError as error:
            self.error = str(error)
            self.result = None
            self.readout.value = (
                f'<div class="crmlab-message" role="alert">'
                f"<b>Cannot compute:</b> {html.escape(self.error)}</div>"
            )
            return
        self.error = None
        self.result = result
        self.readout.value = self.render(result)
        if self.image is not None:
            figure = self._canvas()
            with self._text_size():
                self.draw(result, figure)
                png = self._blitter.png(figure, self._full_still_key(result, figure), self._dpi)
            if not self._figure_fixed:
                # Keep the constrained layout of the first drawing instead of redoing it
                # on every redraw (the axes' positions stay where they were put).
                figure.set_layout_engine("none")
                self._figure_fixed = True
            self.image.value = png
