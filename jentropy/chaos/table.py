"""``python -m jentropy.chaos.table``: recompute the chaotic-systems property table.

See :func:`jentropy.chaos.property_table` for what is computed and written.
"""

import sys

from ._table import main

if __name__ == "__main__":
    sys.exit(main())
