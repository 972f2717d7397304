#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 socket address.
package struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    package let family: Int32
    /// The raw `sockaddr_in` / `sockaddr_in6` bytes.
    package let bytes: [UInt8]

    init(raw: UnsafePointer<sockaddr>, length: socklen_t) {
        family = Int32(raw.pointee.sa_family)
        bytes = Array(UnsafeRawBufferPointer(start: raw, count: Int(length)))
    }

    /// Calls `body` with a `sockaddr` pointer to this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(bytes.count))
        }
    }

    /// The numeric host (`127.0.0.1`, `::1`).
    package var host: String {
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let result = withSockAddr { address, length in
            getnameinfo(address, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST)
        }
        guard result == 0 else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The port in host byte order.
    package var port: Int {
        guard bytes.count >= 4 else { return 0 }
        // sin_port and sin6_port both sit at offset 2, in network byte order.
        return Int(bytes[2]) << 8 | Int(bytes[3])
    }

    package var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Resolves `host` (a name or a numeric IPv4/IPv6 address) to stream socket addresses.
    package static func resolve(host: String, port: Int) throws(SocketError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .resolutionFailed(host: host, message: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var result: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let address = info.pointee.ai_addr {
                let candidate = SocketAddress(raw: address, length: info.pointee.ai_addrlen)
                if !result.contains(candidate) { result.append(candidate) }
            }
            cursor = info.pointee.ai_next
        }
        return result
    }
}
