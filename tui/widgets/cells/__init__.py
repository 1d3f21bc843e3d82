"""A table drawn line by line from raw values and column specs: the widget under
`KeyedTable`, on Textual's public Line API.

`CellTable` is a `ScrollView`: its `virtual_size` is the table's (widths of the columns by
rows plus the header), and `render_line(y)` draws one row as a `Strip`, the header fixed
at the top. Textual keeps the strips it was given and asks again only for the lines a
`refresh` marked, so an edit repaints only the rows it touched. Rows are raw values (one
tuple per key, in column order); a cell is formatted and coloured by its column's spec
only when it is drawn or read (`get_cell` gives a `Cell`), so 10k rows of 17 columns are
10k tuples, not 170k Rich Text objects.

What was drawn is kept by place and look beside the value it showed, so a cell is drawn
again only when its value, place or look changes; the common cell, one line of printable
ASCII that fits its column, goes straight from the value to segments (Rich's general
layout costs ten times as much, and a new screenful is 800 cells).

It looks like Textual's DataTable with a row cursor and zebra stripes, segment for
segment (a test draws both): the same CSS type name, component classes
(`datatable--header`, `--cursor`, `--hover`, `--even-row`, `--odd-row`, ...) and default
CSS, and the same `row`/`column` metadata on the segments, which is how a click or the
mouse pointer finds its cell. The console's stylesheets (themes/*.tcss) say
`DataTable > .datatable--header`, and so they style this table as they did DataTable.

The modules, one job each: `columns` (specs, cells, text widths), `looks` (a frame's
styles), `drawing` (rows into strips), `navigation` (cursor, mouse and keys) and `table`
(the rows and their edits, which the others serve).
"""

from tui.widgets.cells.columns import HEADER, Cell, ColumnSpec, Row
from tui.widgets.cells.looks import EVEN, HEAD, ODD, PLAIN
from tui.widgets.cells.table import CellTable, DataTable

__all__ = [
    "EVEN",
    "HEAD",
    "HEADER",
    "ODD",
    "PLAIN",
    "Cell",
    "CellTable",
    "ColumnSpec",
    "DataTable",
    "Row",
]
