extension StatusMachine {
    /// Reads a status column. A value outside the machine is a corrupt or foreign row: an error naming the
    /// table, never a silent default or a skipped transition.
    public static func read(_ row: SQLRow, _ column: String, table: String) throws -> Self {
        let raw = row.string(column)
        guard let status = Self(rawValue: raw) else {
            throw CodestratorError(
                .internal, "\(table).\(column) of row \(row.int("id")) is \(quoted(raw))",
                expected: "one of \(allNames)")
        }
        return status
    }

    /// A set of statuses as an SQL list literal, `('a','b')`, in declaration order: the raw values are
    /// fixed identifiers, so this never carries input into SQL.
    public static func sqlList(_ statuses: Set<Self>) -> String {
        "(" + allCases.filter(statuses.contains).map { "'\($0.rawValue)'" }.joined(separator: ",") + ")"
    }
}
