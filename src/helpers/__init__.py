"""Pure helper functions the report notebooks import (formatting, tables, charts, data)."""
