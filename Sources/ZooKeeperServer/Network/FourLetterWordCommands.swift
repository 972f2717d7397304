/// The four-letter words ZooKeeper answers on its client port (`FourLetterCommands`).
enum FourLetterWordCommands {
    /// Known commands by the int their 4 bytes make when read as a frame length.
    static let all: [String] = [
        "ruok", "stat", "srvr", "conf", "cons", "crst", "dump", "envi", "mntr", "srst", "wchs", "wchc",
        "wchp", "isro", "dirs", "gtmk", "stmk", "hash",
    ]

    /// The command spelled by the first four bytes of a connection, if they spell one.
    static func command(from bytes: ArraySlice<UInt8>) -> String? {
        guard bytes.count >= 4 else { return nil }
        let word = String(decoding: bytes.prefix(4), as: UTF8.self)
        return all.contains(word) ? word : nil
    }
}
