import Testing
import ZooKeeperHTTP

@Suite struct JSONValueTests {
    @Test func printsAsJacksonDoes() {
        let value = JSONValue.object([
            ("a", .int(1)), ("b", .double(0)), ("c", .array([])), ("d", .object([])),
            ("e", .array([.object([("x", .string("q\"\n"))])])), ("f", .null), ("g", .array([.int(1), .int(2)])),
        ])
        #expect(value.prettyPrinted() == """
            {
              "a" : 1,
              "b" : 0.0,
              "c" : [ ],
              "d" : { },
              "e" : [ {
                "x" : "q\\"\\n"
              } ],
              "f" : null,
              "g" : [ 1, 2 ]
            }
            """)
    }

    @Test func roundTripsAndKeepsNumberKinds() throws {
        let text = #"{ "i" : -3, "d" : 2.5, "e" : 1e3, "s" : "\u00e9\ud83d\ude00\/", "n" : null, "t" : true, "a" : [ { } ] }"#
        let value = try JSONValue(parsing: text)
        #expect(value.keys == ["i", "d", "e", "s", "n", "t", "a"])
        #expect(value["i"] == .int(-3))
        #expect(value["d"] == .double(2.5))
        #expect(value["e"]?.kind == "double")
        #expect(value["s"] == .string("é😀/"))
        #expect(try JSONValue(parsing: value.prettyPrinted()) == value)
        #expect(try JSONValue(parsing: value.compact()) == value)
    }

    @Test func refusesBrokenJSON() {
        for text in ["", "{", "[1,]", "{\"a\" 1}", "01x", "01", "1.", "-", "1e", "\"\u{01}\"", "[1] 2", "nul", "+1"] {
            #expect(throws: JSONValue.ParseError.self, "\(text)") { try JSONValue(parsing: text) }
        }
    }
}
