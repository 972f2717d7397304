import Testing

import ZooKeeperProtocol

@Suite("SHA-1 and base64")
struct SHA1Tests {
    // FIPS 180 (and RFC 3174) test vectors.
    @Test func emptyMessage() {
        #expect(hex(SHA1.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func abc() {
        #expect(hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func fourHundredFortyEightBitMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(message.utf8.count * 8 == 448)
        #expect(hex(SHA1.hash(Array(message.utf8))) == "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    }

    @Test func eightHundredNinetySixBitMessage() {
        let message =
            "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        #expect(hex(SHA1.hash(Array(message.utf8))) == "a49b2446a02c645bf419f995b67091253a04a259")
    }

    @Test func oneMillionA() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(hex(SHA1.hash(message)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test func paddingBoundaries() {
        // Lengths around the 55/56/64-byte padding edges: the digest of n 'a's, from Python's hashlib.
        let expected: [Int: String] = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a",
            56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5",
            64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
        ]
        for (count, digest) in expected {
            #expect(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: count))) == digest, "length \(count)")
        }
    }

    @Test func acceptsAnyCollection() {
        #expect(SHA1.hash("abc".utf8) == SHA1.hash(Array("abc".utf8)))
        #expect(SHA1.hash(Array("xabcx".utf8).dropFirst().dropLast()) == SHA1.hash(Array("abc".utf8)))
    }

    // RFC 4648 §10.
    @Test func base64() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==",
                       "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(Base64.encode(Array(plain.utf8)) == encoded)
        }
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
    }
}

@Suite("ACL presets")
struct ACLPresetTests {
    // Expected ids produced once with Apache ZooKeeper 3.8.0's own code (Debian libzookeeper-java):
    //   DigestAuthenticationProvider.generateDigest("<user>:<password>")
    // from a tiny Java program compiled and run against /usr/share/java/zookeeper.jar,
    // zookeeper-jute.jar, slf4j-api.jar and slf4j-nop.jar. The result was the same under
    // -Dfile.encoding=UTF-8 and ISO-8859-1: ZooKeeper hashes the UTF-8 bytes.
    static let apacheDigests: [(user: String, password: String, id: String)] = [
        ("super", "secret", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="),
        ("alice", "password", "alice:aPbiX7iFc6K+3h15/DJRrQwkQMk="),
        ("bob", "", "bob:tK1fpNO1hB0F++FhHpSq0Fa4tv0="),
        ("", "", ":BaefBs8/Z/cm2uaNGKIpD2yaUMk="),
        ("user", "pässwörd", "user:Vx8H+a8Jh/huGaoHXWUnrKRcDDI="),
        ("zoë", "密码🔑", "zoë:1a4tulPxjfYv8KB7BxPw+Uc9O3I="),
        // generateDigest splits at the first colon; the password keeps the rest.
        ("a", "b:c", "a:cLzgnoJ6mP5qz3w+mwvPE2vDgu0="),
    ]

    @Test(arguments: 0..<apacheDigests.count)
    func digestMatchesApache(_ index: Int) {
        let vector = Self.apacheDigests[index]
        let id = Id.digest(user: vector.user, password: vector.password)
        #expect(id == Id(scheme: "digest", id: vector.id))
    }

    @Test func wellKnownIds() {
        #expect(Id.anyone == Id(scheme: "world", id: "anyone"))
        #expect(Id.authIds == Id(scheme: "auth", id: ""))
        #expect(Id.ip("10.0.0.0/8") == Id(scheme: "ip", id: "10.0.0.0/8"))
    }

    @Test func wellKnownACLs() {
        #expect([ACL].openACLUnsafe == [ACL(perms: Permissions(rawValue: 31), id: Id(scheme: "world", id: "anyone"))])
        #expect([ACL].creatorAllACL == [ACL(perms: Permissions(rawValue: 31), id: Id(scheme: "auth", id: ""))])
        #expect([ACL].readACLUnsafe == [ACL(perms: Permissions(rawValue: 1), id: Id(scheme: "world", id: "anyone"))])
    }

    @Test func aclHelpers() {
        #expect(ACL.world(.read) == ACL(perms: .read, id: .anyone))
        #expect(ACL.ip("127.0.0.1", perms: [.read, .write]) == ACL(perms: [.read, .write], id: Id(scheme: "ip", id: "127.0.0.1")))
        #expect(ACL.digest(user: "super", password: "secret", perms: .all)
                == ACL(perms: .all, id: Id(scheme: "digest", id: "super:lK75jTNcA+U9vtVEw5vB51mj/w4=")))
    }
}
