import ZooKeeperProtocol

/// A KeeperException raised while preparing or applying a request: the code the client sees.
package struct DataTreeError: Error, Sendable, Hashable {
    package var code: ZooKeeperErrorCode

    package init(_ code: ZooKeeperErrorCode) {
        self.code = code
    }
}
