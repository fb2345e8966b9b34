import SQLKit

// WINDTRE self-service (line activation, SIM association, promotions, automatic recharge): tables and columns of migration `line_self_service`.

let lineSelfServiceTables: [TableSpec] = []

let lineSelfServiceColumns: [(StoredTable, ColumnSpec)] = []
