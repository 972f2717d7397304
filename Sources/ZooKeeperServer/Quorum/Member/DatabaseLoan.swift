/// A role's committed database lent to the client side while the role serves (``QuorumClientSide``), so a
/// member holds its tree once. The role keeps an empty stand-in with the same settings meanwhile.
enum DatabaseLoan {
    /// Hands `database` over; `lent` records that the role no longer holds it.
    static func lend(_ database: inout ZooKeeperDatabase, lent: inout Bool) -> ZooKeeperDatabase {
        let handed = database
        database = handed.carryingSettings(to: ZooKeeperDatabase())
        lent = true
        return handed
    }

    /// The role's database once it ended: the one it holds, or `returned` (the client side's `stopServing`) if
    /// it was lent. Nil if it was lent and never came back: no history to go on.
    static func reclaim(_ database: inout ZooKeeperDatabase, lent: inout Bool, returned: ZooKeeperDatabase?) -> ZooKeeperDatabase? {
        guard lent else { return database }
        guard let returned else { return nil }
        database = returned
        lent = false
        return returned
    }
}
