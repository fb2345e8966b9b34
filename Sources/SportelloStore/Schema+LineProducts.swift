import SQLKit

// WINDTRE products (Giga Smart Share, devices, PIN/PUK, coverage): tables and columns of migration `line_products`.

let lineProductTables: [TableSpec] = []

let lineProductColumns: [(StoredTable, ColumnSpec)] = []
