public import Foundation

/// One registered instance of a service — Curator x-discovery's `ServiceInstance`, with the same JSON.
///
/// The JSON uses Curator's field names (`name`, `id`, `address`, `port`, `sslPort`, `payload`,
/// `registrationTimeUTC`, `serviceType`, `uriSpec`, `enabled`), so instances registered by Curator
/// (Java) can be read here and ours by Curator.
///
/// Notable behaviours:
/// - Unknown JSON fields are ignored (as Curator's serializer does), so a POJO payload's `"@class"`
///   property does not stop a Swift `Payload` struct from decoding. We do not *write* `"@class"`: a Java
///   reader that needs a typed POJO payload must use a String/Number/Map payload or its own serializer.
/// - `enabled` defaults to `true` when absent (Curator's compatible mode writes no `enabled`);
///   ``ServiceInstanceSerializer/compatibleMode`` omits it when writing.
/// - `payload` is optional; `null` and absent both decode as `nil`.
public struct ServiceInstance<Payload: Codable & Sendable>: Codable, Sendable {
    public var name: String
    public var id: String
    public var address: String?
    public var port: Int?
    public var sslPort: Int?
    public var payload: Payload?
    /// Milliseconds since 1970 (UTC), as Java's `System.currentTimeMillis()`.
    public var registrationTimeUTC: Int64
    public var serviceType: ServiceType
    public var uriSpec: UriSpec?
    public var enabled: Bool

    public init(
        name: String, id: String = UUID().uuidString.lowercased(), address: String? = nil, port: Int? = nil,
        sslPort: Int? = nil, payload: Payload? = nil,
        registrationTimeUTC: Int64 = Int64(Date().timeIntervalSince1970 * 1000),
        serviceType: ServiceType = .dynamic, uriSpec: UriSpec? = nil, enabled: Bool = true
    ) {
        self.name = name
        self.id = id
        self.address = address
        self.port = port
        self.sslPort = sslPort
        self.payload = payload
        self.registrationTimeUTC = registrationTimeUTC
        self.serviceType = serviceType
        self.uriSpec = uriSpec
        self.enabled = enabled
    }

    enum CodingKeys: String, CodingKey {
        case name, id, address, port, sslPort, payload, registrationTimeUTC, serviceType, uriSpec, enabled
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        id = try c.decode(String.self, forKey: .id)
        address = try c.decodeIfPresent(String.self, forKey: .address)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        sslPort = try c.decodeIfPresent(Int.self, forKey: .sslPort)
        payload = try c.decodeIfPresent(Payload.self, forKey: .payload)
        registrationTimeUTC = try c.decodeIfPresent(Int64.self, forKey: .registrationTimeUTC) ?? 0
        serviceType = try c.decodeIfPresent(ServiceType.self, forKey: .serviceType) ?? .dynamic
        uriSpec = try c.decodeIfPresent(UriSpec.self, forKey: .uriSpec)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(id, forKey: .id)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encodeIfPresent(port, forKey: .port)
        try c.encodeIfPresent(sslPort, forKey: .sslPort)
        try c.encodeIfPresent(payload, forKey: .payload)
        try c.encode(registrationTimeUTC, forKey: .registrationTimeUTC)
        try c.encode(serviceType, forKey: .serviceType)
        try c.encodeIfPresent(uriSpec, forKey: .uriSpec)
        if encoder.userInfo[DiscoveryCoding.compatibleModeKey] as? Bool != true {
            try c.encode(enabled, forKey: .enabled)
        }
    }
}

extension ServiceInstance: Equatable where Payload: Equatable {}
extension ServiceInstance: Hashable where Payload: Hashable {}

/// Curator's `ServiceType`: decides the node mode of a registration.
public enum ServiceType: String, Codable, Sendable, Hashable {
    /// EPHEMERAL: goes away with the registering session (the default).
    case dynamic = "DYNAMIC"
    /// EPHEMERAL_SEQUENTIAL in Curator; registered here as EPHEMERAL under its id.
    case dynamicSequential = "DYNAMIC_SEQUENTIAL"
    /// PERSISTENT.
    case `static` = "STATIC"
    /// PERSISTENT.
    case permanent = "PERMANENT"

    var isEphemeral: Bool { self == .dynamic || self == .dynamicSequential }
}

/// Curator's `UriSpec`: a template such as `{scheme}://{address}:{port}` as literal and variable parts.
public struct UriSpec: Codable, Sendable, Hashable {
    public struct Part: Codable, Sendable, Hashable {
        public var value: String
        public var variable: Bool
        public init(value: String, variable: Bool) {
            self.value = value
            self.variable = variable
        }
    }
    public var parts: [Part]

    public init(parts: [Part]) { self.parts = parts }

    /// Parses `{name}` variables and literal text, as Curator's `UriSpec(String)`.
    public init(_ template: String) {
        var parts: [Part] = []
        var current = ""
        var inVariable = false
        for character in template {
            if character == "{" && !inVariable {
                if !current.isEmpty { parts.append(Part(value: current, variable: false)) }
                current = ""
                inVariable = true
            } else if character == "}" && inVariable {
                parts.append(Part(value: current, variable: true))
                current = ""
                inVariable = false
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { parts.append(Part(value: inVariable ? "{" + current : current, variable: false)) }
        self.parts = parts
    }

    /// Fills the template from an instance (`name`, `id`, `address`, `port`, `ssl-port`, `scheme`) and
    /// `variables`; an unknown variable becomes empty.
    public func build<P>(for instance: ServiceInstance<P>, variables: [String: String] = [:]) -> String {
        parts.map { part in
            guard part.variable else { return part.value }
            if let value = variables[part.value] { return value }
            switch part.value {
            case "name": return instance.name
            case "id": return instance.id
            case "address": return instance.address ?? ""
            case "port": return instance.port.map(String.init) ?? ""
            case "ssl-port": return instance.sslPort.map(String.init) ?? ""
            case "scheme": return instance.sslPort != nil ? "https" : "http"
            default: return ""
            }
        }.joined()
    }
}

/// Curator's `JsonInstanceSerializer`: ``ServiceInstance`` to and from node data.
public struct ServiceInstanceSerializer<Payload: Codable & Sendable>: Sendable {
    /// Omit `enabled` when writing, as Curator's default (compatible-mode) serializer does, for readers
    /// that predate it. Reading accepts both forms either way.
    public var compatibleMode: Bool

    public init(compatibleMode: Bool = false) { self.compatibleMode = compatibleMode }

    public func serialize(_ instance: ServiceInstance<Payload>) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.userInfo[DiscoveryCoding.compatibleModeKey] = compatibleMode
        return Array(try encoder.encode(instance))
    }

    public func deserialize(_ bytes: [UInt8]) throws -> ServiceInstance<Payload> {
        try JSONDecoder().decode(ServiceInstance<Payload>.self, from: Data(bytes))
    }
}

enum DiscoveryCoding {
    static var compatibleModeKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "shepherd.discovery.compatibleMode")! }
}
