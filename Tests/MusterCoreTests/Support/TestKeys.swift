import MusterCore
import MusterFuzz

/// Valid SSH host key lines for identities in tests.
enum TestKeys {
    /// A well-formed Ed25519 key line, distinct per `seed` (the 32 key bytes are not a real curve point: the
    /// broker only checks the form).
    static func ed25519(_ seed: Int, comment: String? = nil) -> String {
        var random = SplitMix64(seed: UInt64(truncatingIfNeeded: seed) &+ 0x5EED)
        let key = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next()) { Array($0) } }
        return SSHPublicKey(ed25519: key, comment: comment).line
    }

    /// Public keys made with `ssh-keygen` (OpenSSH 9), one of each type and size the tests accept.
    static let generated = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIItBoDFw6BjI1MUuLYx6uoEQo2WRYdriY2OLo91RXEZt root@node-ed25519",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDH1j98tVpI2egwYtTlYDwLKHbOagYFVqszeTv2a419lQrheD+F62BT7zEgvTheM5YgLK6Yzf3vOLTvAdNNBo48u+B2PE7G/lR0kpdPKt61TL75ddavD3c4rAf2yxHaayTsSysq59y4gFSgwQQvBAhsA+VbIwVfz+M2IFjLkNqcgw== root@node-rsab1024",
        "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCyzWXIKOrp3Mpq3dqwQGewrDzbN+ZwgI5zUl+5IDTlle3vG1jjyVBA672OjwgZS0wxtLLAXW5d+tet/6+dssAvtVRZoIR+OOwQrO9kxTSTsHIm+KWxwffhuwa15rq1hTZEneG3F77e8wQKTfC7HmGbvMQ+Kd7NyfOx9VEoliB2th2Yq29+D6AIyiV4fLH8gCYlcuMdOfcuE16kd4VxAoaZHh4uK9yCWDu7o+HDpDcLu53muDreZ4SWJZicO32eS6/ouLiowTyS+YUdOHcRbWnE7TEHLwz5Rp+BiWKDOre1Jf6zo6kgCd4JSQlGFJMXIuwC2G+6Ni6h3RdtvH78Wt17f/nxsrgqB0JaU0ukJImQ83IlES0MtcI6DLflE8xwiefMoYu+CaISlVWPq8sI2FnLe4tFJvYY8iZxPNbvOx7jeDn0SF7FMcLcQ9peZU6X4K8HQzC7Or0D6R6b/3RQRQfLr0QiyZO/mOw7s2V3/Q0fN9ua9zdEc73/UKrfiJWJlCk= root@node-rsab3072",
        "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBO2ZzuE1BMEYwYpnK+mCuIEz0+3APx0GupI0dJ1lEFyojcmL89OZ+NrXAJICeujwPIVS7w8ydQ86G4lq9W7lXws= root@node-ecdsab256",
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBGclcJ20SlQp8qWBizkEn2kXh1NDWjIGHf6uUiJXyWJW+6HMg3KNurpEef/RTFzI11lEraKM0ZqdCdHa+7jkisjjELdyvQjcAp1jEjXEjSBkGsciQvQSQbD1CPf406aZwQ== root@node-ecdsab384",
        "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAByciaEHpyDZdh6LxbZ2sw9+Ehk182zvfBAoP6Wk2ObJSAdVtTS7iJe4AFuOwoKLR3uM2s/pi5k1Vz83YV0F+2cnQFcwakIPrOewaTbduONy9l69I4ha8nnMpWd8joee5QfFJ3lBEkKVAYJkm6Da1FoyXOPB4ZZ18k8ZS1wu4NDtsL1sg== root@node-ecdsab521",
    ]
}
