extension BrokerRoutes {
    /// `GET …/nodes/{node}/generations/{generation}/output?from=N&limit=M` → ``OutputPage``: the output of one
    /// attempt of a node (generation 0 is the first attempt; a retry starts the next), earlier ones included.
    public static func generationOutput(_ id: ContextID, _ name: String, generation: Int) -> String {
        node(id, name) + "/generations/\(generation)/output"
    }
}
