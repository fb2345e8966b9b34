/// Turns passwords (and security answers) into salted, slow hashes and checks them.
/// Implementations run the work off the caller's event loop.
public protocol PasswordHashing: Sendable {
    func hash(_ secret: String) async throws -> String
    func verify(_ secret: String, against hash: String) async throws -> Bool
    /// A hash nothing matches, made with the same cost as real ones: verified when an account does not
    /// exist, so that the answer takes as long as for a wrong password.
    var decoyHash: String { get }
}
