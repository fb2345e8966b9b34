import Foundation
import Logging
import Testing
import SportelloCore
@testable import SportelloWeb
import SportelloTestSupport

@Suite("Configuration: every serve setting from flags, else the environment, else the defaults")
struct ConfigurationTests {
    @Test("With nothing set, the defaults")
    func defaults() throws {
        let settings = try ServeSettings.resolve(environment: [:])
        #expect(settings == ServeSettings())
        #expect(settings.port == 8080 && settings.hostname == "127.0.0.1" && settings.database == nil)
        #expect(settings.publicScheme == "http" && settings.publicPort == nil && !settings.secureCookies)
        #expect(settings.logFormat == .text && settings.logLevel == .info && settings.metricsPort == nil)
        #expect(settings.publicURL(host: "a.localhost") == "http://a.localhost:8080/")
    }

    static let environment = [
        "SPORTELLO_HOST": "0.0.0.0", "SPORTELLO_PORT": "9090", "SPORTELLO_DATABASE_URL": "postgres://u:p@db:5432/sportello",
        "DATABASE_URL": "sqlite:other.sqlite", "SPORTELLO_TEMPLATES": "/srv/templates", "SPORTELLO_PUBLIC_URL": "https://{host}",
        "SPORTELLO_TRUSTED_PROXIES": "10.0.0.0/8", "SPORTELLO_LOG_LEVEL": "warning", "SPORTELLO_LOG_FORMAT": "json",
        "SPORTELLO_POOL_SIZE": "8", "SPORTELLO_PASSWORD_COST": "11", "SPORTELLO_DATABASE_TIMEOUT": "2.5",
        "SPORTELLO_METRICS_HOST": "10.1.2.3", "SPORTELLO_METRICS_PORT": "9464", "SPORTELLO_MIGRATE": "true",
    ]

    @Test("Every variable is read; an https public URL turns Secure cookies on and drops the port from e-mailed links")
    func fromEnvironment() throws {
        let settings = try ServeSettings.resolve(environment: Self.environment)
        #expect(settings.hostname == "0.0.0.0" && settings.port == 9090)
        #expect(settings.database == "postgres://u:p@db:5432/sportello", "SPORTELLO_DATABASE_URL wins over DATABASE_URL")
        #expect(settings.templates == "/srv/templates")
        #expect(settings.publicScheme == "https" && settings.publicPort == 443 && settings.secureCookies)
        #expect(settings.trustedProxies == ["10.0.0.0/8"])
        #expect(settings.logLevel == .warning && settings.logFormat == .json)
        #expect(settings.poolSize == 8 && settings.passwordCost == 11 && settings.databaseTimeout == .milliseconds(2500))
        #expect(settings.metricsHostname == "10.1.2.3" && settings.metricsPort == 9464 && settings.migrate)
        #expect(settings.publicURL(host: "portale.unogas.it") == "https://portale.unogas.it/")
        // The e-mailed links use the same address (serve builds its WebConfiguration from these settings).
        let configuration = WebConfiguration(port: settings.port, templatesDirectory: URL(fileURLWithPath: "templates"),
                                             publicScheme: settings.publicScheme, publicPort: settings.publicPort)
        var tenant = try provider("unogas")
        tenant.hosts = ["portale.unogas.it"]
        #expect(configuration.portalAddress(for: tenant) + "/" == settings.publicURL(host: "portale.unogas.it"))
        #expect(try ServeSettings.resolve(environment: ["DATABASE_URL": "sqlite:other.sqlite"]).database == "sqlite:other.sqlite")
    }

    @Test("Flags win over the environment")
    func flagsWin() throws {
        var flags = ServeSettings.Flags()
        flags.port = 7000; flags.hostname = "127.0.0.2"; flags.database = "data/x.sqlite"; flags.publicScheme = "http"; flags.publicPort = 8443
        flags.secureCookies = false; flags.logFormat = "text"; flags.logLevel = "debug"; flags.poolSize = 2; flags.passwordCost = 10
        flags.databaseTimeout = 1; flags.metricsPort = 9100; flags.trustedProxies = ["192.168.0.1"]
        let settings = try ServeSettings.resolve(flags: flags, environment: Self.environment)
        #expect(settings.port == 7000 && settings.hostname == "127.0.0.2" && settings.database == "data/x.sqlite")
        #expect(settings.publicScheme == "http" && settings.publicPort == 8443 && !settings.secureCookies)
        #expect(settings.logFormat == .text && settings.logLevel == .debug && settings.poolSize == 2 && settings.passwordCost == 10)
        #expect(settings.databaseTimeout == .seconds(1) && settings.metricsPort == 9100)
        // Proxies add up: the flag's and the variable's.
        #expect(settings.trustedProxies == ["192.168.0.1", "10.0.0.0/8"])
        #expect(settings.publicURL(host: "a.example") == "http://a.example:8443/")
        var url = ServeSettings.Flags()
        url.publicURL = "https://{host}:8443"
        let fromURL = try ServeSettings.resolve(flags: url, environment: ["SPORTELLO_PUBLIC_SCHEME": "http", "SPORTELLO_PUBLIC_PORT": "80"])
        #expect(fromURL.publicScheme == "https" && fromURL.publicPort == 8443 && fromURL.secureCookies)
    }

    @Test("A value that cannot be used is an error naming its variable or flag, never the default in silence",
          arguments: [("SPORTELLO_PORT", "eighty"), ("SPORTELLO_PORT", "70000"), ("SPORTELLO_LOG_FORMAT", "xml"),
                      ("SPORTELLO_LOG_LEVEL", "loud"), ("SPORTELLO_PUBLIC_URL", "https://portal.example"),
                      ("SPORTELLO_PUBLIC_URL", "ftp://{host}"), ("SPORTELLO_SECURE_COOKIES", "maybe"),
                      ("SPORTELLO_PASSWORD_COST", "3"), ("SPORTELLO_DATABASE_TIMEOUT", "0"), ("SPORTELLO_METRICS_PORT", "-1")])
    func invalidValues(name: String, value: String) throws {
        let error = try #require(throws: ServeSettingsError.self) { try ServeSettings.resolve(environment: [name: value]) }
        #expect(error.source == name)
        #expect(error.code == .invalidValue)
        var flags = ServeSettings.Flags()
        flags.port = 0
        #expect(throws: ServeSettingsError(.invalidValue, source: "--port", "expected 1…65535, got 0")) {
            try ServeSettings.resolve(flags: flags, environment: [:])
        }
    }

    @Test("An empty variable counts as unset")
    func emptyIsUnset() throws {
        #expect(try ServeSettings.resolve(environment: ["SPORTELLO_PORT": "", "SPORTELLO_LOG_FORMAT": " "]) == ServeSettings())
    }

    @Test("Every variable serve reads is documented in its --help and in the README")
    func documented() throws {
        let readme = try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for variable in ServeSettings.variables.map(\.name) {
            #expect(readme.contains(variable), "\(variable) in README.md")
        }
    }
}
