import SQLKit

// TIM lines, offers, billed reports and online assistance: tables and columns of migration `telco_support`.

let telcoSupportTables: [TableSpec] = []

let telcoSupportColumns: [(StoredTable, ColumnSpec)] = []
