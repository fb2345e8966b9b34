/// Turns passwords (and security answers) into salted, slow hashes and checks them.
/// Implementations run the work off the caller's event loop.
public protocol PasswordHashing: Sendable {
    func hash(_ secret: String) async throws -> String
    func verify(_ secret: String, against hash: String) async throws -> Bool
}
