import Foundation
import Testing
import SportelloCore

/// The example tenant with a fleet (record kinds of its own): vehicles of the customer (a plate, two dates, fuel, value, seats) and the
/// maintenance jobs of each vehicle, and a customer field of its own. Its
/// administrator sees every vehicle; a member with the `vehicles` switch sees only the vehicles assigned to them.
public let fleetTenantYAML: String = {
    var text = SchemaExport.exampleTenant
    for (old, new) in [
        ("\nsections:\n", "\nsections:\n  fleet: {label: {it: Flotta, en: Fleet}}\n"),
        ("\nfeatures:\n", "\nfeatures:\n  vehicles.view: {label: Veicoli, section: fleet}\n  vehicles.mine: {label: I miei veicoli, section: fleet}\n"),
        ("grants: [invoices.view, invoices.pay]", "grants: [invoices.view, invoices.pay, vehicles.view, vehicles.mine]"),
        ("      invoices: {label: Fatture, features: [invoices.view]}\n", "      invoices: {label: Fatture, features: [invoices.view]}\n      vehicles: {label: Veicoli, features: [vehicles.mine]}\n"),
    ] {
        text = text.replacingOccurrences(of: old, with: new)
    }
    return text + """
    customer_fields:
      fleet_code: {label: {it: Codice flotta, en: Fleet code}, type: text, normalize: [uppercase], validators: [{pattern: 'FL[0-9]{4}'}], generator: {template: "FL####"}}
    records:
      vehicles:
        label: {it: Veicolo, en: Vehicle}
        label_plural: {it: Veicoli, en: Vehicles}
        section: fleet
        external_id: plate
        date: registered_on
        fields:
          plate: {label: {it: Targa, en: Number plate}, type: text, normalize: [uppercase], validators: [{check: italian_plate}], examples: [AB123CD]}
          registered_on: {label: {it: Immatricolazione, en: Registered on}, type: date, validators: [{range: {max: today}}]}
          inspected_on: {label: {it: Revisione, en: Inspection}, type: date}
          fuel: {label: {it: Alimentazione, en: Fuel}, type: enum, options: {petrol: Benzina, electric: Elettrica}}
          value: {label: {it: Valore, en: Value}, type: decimal, scale: 2, validators: [{range: {min: -100000, max: 100000}}]}
          seats: {label: {it: Posti, en: Seats}, type: integer, validators: [{range: {min: 1, max: 60}}]}
        retention: {visible_for: 10y, delete_after: 11y}
        access:
          - {feature: vehicles.view, scope: all}
          - {feature: vehicles.mine, scope: own}
        list: {columns: [plate, fuel, registered_on], filters: [fuel, registered_on, value, seats]}
        chart: {kind: bar, series: [{field: value}, {field: seats}]}
      maintenance:
        label: {it: Intervento, en: Service}
        label_plural: {it: Interventi, en: Services}
        owner: vehicles
        section: fleet
        external_id: job
        date: done_on
        fields:
          job: {label: {it: Commessa, en: Job}, type: text, generator: {template: "J-######"}}
          done_on: {label: {it: Data, en: Date}, type: date, validators: [{range: {max: today}}]}
          cost: {label: {it: Costo, en: Cost}, type: decimal}
          km: {label: Km, type: integer, validators: [{range: {min: 0, max: 400000}}]}
        access: [{feature: vehicles.view}]
        chart: {kind: line, series: [{field: cost}, {field: km}], period: month}

    """
}()

/// The fleet tenant under a fresh id.
/// `yaml` is the fleet tenant as written, or changed by a test.
public func fleetTenant(_ base: String = "fleet", yaml: String = fleetTenantYAML) throws -> TenantDefinition {
    let result = TenantLoader(capabilities: .portal).load(sources: [(file: "example.yaml", text: yaml)])
    #expect(result.diagnostics.map(\.description) == [])
    return renamed(try #require(result.tenants.first?.definition), to: uniqueTenant(base))
}

