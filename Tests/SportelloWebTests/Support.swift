import Foundation
@_exported import SportelloTestSupport  // every file of the target sees the shared helpers
import Hummingbird
import HummingbirdTesting
import Testing
import SportelloCore
import SportelloMail
@testable import SportelloStore
@testable import SportelloWeb
