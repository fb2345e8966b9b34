import SQLKit

// Tunda services, hosting, domains, knowledge base and Unidata help: tables and columns of migration `hosting`.

let hostingTables: [TableSpec] = []

let hostingColumns: [(StoredTable, ColumnSpec)] = []
