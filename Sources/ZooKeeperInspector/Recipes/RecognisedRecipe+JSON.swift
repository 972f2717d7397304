public import ZooKeeperHTTP

extension RecognisedRecipe {
    /// The recipe as the inspector's API and page read it.
    public var json: JSONValue {
        var object = JSONObject()
        object.set("kind", kind.rawValue)
        object.set("path", path)
        object.set("flavour", flavour)
        object.set("holders", .array(holders.map(\.json)))
        object.set("waiters", .array(waiters.map(\.json)))
        object.set("items", .array(items.map(\.json)))
        var factObject = JSONObject()
        for fact in facts { factObject.set(fact.name, fact.value) }
        object.set("facts", factObject.value)
        return object.value
    }
}

extension Participant {
    /// The participant as the inspector's API and page read it (session and czxid in `0x…` hex).
    public var json: JSONValue {
        var object = JSONObject()
        object.set("name", name)
        object.set("path", path)
        object.set("sequence", sequence.map { JSONValue.int(Int64($0)) } ?? .null)
        object.set("session", DataRendering.hex(session))
        object.set("createdMs", createdMs)
        object.set("ageMs", ageMs)
        object.set("czxid", DataRendering.hex(czxid))
        object.set("text", text)
        object.set("role", role)
        return object.value
    }
}
