import Foundation
import Testing
import SportelloCore
@testable import SportelloStore

/// The values of a tenant's own customer fields: written and read per customer, found by value for flows, fenced by
/// tenant, and replaced or cleared field by field.
@Suite("Custom field storage")
struct CustomFieldStorageTests {
    @Test("a customer's own field values are stored, found by value, replaced and cleared; another tenant sees none",
          arguments: TestEngine.available)
    func valuesRoundTrip(engine: TestEngine) async throws {
        try await engine.withDatabase { database in
            let tenant = uniqueTenant("fields"), other = uniqueTenant("fields-other")
            let (first, second) = try await database.write(tenant: tenant, now: fixedNow) { t in
                let first = try await t.insertCustomer(sampleCustomer("CF1-\(tenant)"))
                let second = try await t.insertCustomer(sampleCustomer("CF2-\(tenant)"))
                try await t.setCustomFieldValues(["policy_number": "POL-00000001", "premium": "420.50"], of: .customer(first))
                try await t.setCustomFieldValues(["policy_number": "POL-00000002"], of: .customer(second))
                return (first, second)
            }
            try await database.write(tenant: other, now: fixedNow) { t in
                let stranger = try await t.insertCustomer(sampleCustomer("CF3-\(other)"))
                try await t.setCustomFieldValues(["policy_number": "POL-00000001"], of: .customer(stranger))
            }
            try await database.read(tenant: tenant, now: fixedNow) { t in
                #expect(try await t.customFieldValues(of: .customer(first)) == ["policy_number": "POL-00000001", "premium": "420.50"])
                #expect(try await t.customers(withField: "policy_number", equalTo: "POL-00000001") == [first])
                #expect(try await t.customers(withField: "policy_number", equalTo: "POL-00000009").isEmpty)
                let many = try await t.customFieldValues(customers: [first, second])
                #expect(many[second] == ["policy_number": "POL-00000002"])
            }
            try await database.write(tenant: tenant, now: fixedNow) { t in
                try await t.setCustomFieldValues(["premium": nil, "policy_number": "POL-00000003"], of: .customer(first))
            }
            let (after, formerHolders) = try await database.read(tenant: tenant, now: fixedNow) { t in
                (try await t.customFieldValues(of: .customer(first)), try await t.customers(withField: "policy_number", equalTo: "POL-00000001"))
            }
            #expect(after == ["policy_number": "POL-00000003"])
            #expect(formerHolders.isEmpty)
        }
    }

    @Test("demo customers get values for the tenant's own fields that pass the fields' validators")
    func demoValuesPass() async throws {
        let yaml = SchemaExport.exampleTenant.replacingOccurrences(of: "\nsections:\n", with: """

            customer_fields:
              policy_number: {label: Polizza, type: text, validators: [{pattern: 'POL-[0-9]{8}'}], generator: {template: "POL-########"}}
              plate: {label: Targa, type: text, validators: [{check: italian_plate}]}
            sections:

            """)
        let loaded = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
        let definition = try #require(loaded.tenants.first?.definition, "\(loaded.diagnostics)")
        let fields = try #require(definition.customerFields)
        try await TestEngine.sqlite.withDatabase { database in
            _ = try await DemoDataGenerator(tenant: definition, now: fixedNow, hasher: BcryptPasswordHasher(cost: 4)).generate(into: database)
            try await database.read(tenant: definition.id, now: fixedNow) { t in
                struct IdRow: Codable { var id: Int64 }
                let ids = try await t.all(t.select(.customers).column("id"), as: IdRow.self).map(\.id)
                #expect(!ids.isEmpty)
                for (customer, values) in try await t.customFieldValues(customers: ids) {
                    #expect(values.count == 2, "customer \(customer)")
                    for (id, value) in values {
                        let field = try #require(fields[id])
                        let context = FieldContext(locale: "it", tenant: definition, today: CalendarDay(instant: fixedNow))
                        #expect((try? field.validate(value, field: id, in: context).get()) != nil, "\(id) = \(value)")
                    }
                }
            }
        }
    }
}
