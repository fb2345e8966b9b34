import Testing
@testable import SportelloCore

/// Loads the repository's five tenants once per test (cheap: a few milliseconds).
struct Providers {
    let result: LoadResult

    init() throws { result = try loadRepositoryTenants() }

    func tenant(_ id: String) throws -> LoadedTenant { try #require(result.tenants.first { $0.definition.id == id }) }
    func definition(_ id: String) throws -> TenantDefinition { try tenant(id).definition }
    func model(_ id: String) throws -> AuthorizationModel { AuthorizationModel(try definition(id)) }
}

@Suite("The providers load")
struct ProvidersLoadTests {
    @Test func allFiveLoadWithoutErrors() throws {
        let result = try Providers().result
        #expect(result.errors.isEmpty, "\(result.errors)")
        #expect(Set(result.tenants.map(\.definition.id)) == ["unidata", "unogas", "tunda", "windtre", "tim", "vela"])
    }

    @Test func theOnlyWarningIsUnogasAdvisedPasswordLength() throws {
        let warnings = try Providers().result.warnings
        #expect(warnings.map(\.code) == ["weak-password-policy"])
        #expect(warnings.allSatisfy { $0.location.file.hasSuffix("unogas.yaml") })
    }

    @Test(arguments: ["unidata", "unogas", "tunda", "windtre", "tim"])
    func everyTenantServesItsDevelopmentHostAndItsOwnAssertionsPass(id: String) throws {
        let providers = try Providers()
        let tenant = try providers.tenant(id)
        #expect(tenant.definition.hosts.contains("\(id).localhost"))
        #expect(tenant.definition.locales.default == "it")
        let outcome = TenantTestRunner(tenant: tenant).run()
        #expect(outcome.failures.isEmpty, "\(outcome.failures)")
        #expect(outcome.assertions >= 5, "every seed's statements about roles are asserted")
    }

    @Test func everySeedRuleIsTracedToItsSeedFile() throws {
        let seeds = ["unidata": "000_d95961f60ac4f3f8", "unogas": "001_b5e768e9a29df6aa", "tunda": "002_6640227389aaa971",
                     "windtre": "003_41e792d9e27fedff", "tim": "004_13f12e2ae263c0db"]
        for (id, seed) in seeds {
            let text = try String(contentsOf: repositoryRoot.appendingPathComponent("tenants/\(id).yaml"), encoding: .utf8)
            let traced = text.components(separatedBy: "seed \(seed).txt").count - 1
            #expect(traced >= 10, "\(id).yaml names its seed only \(traced) times")
        }
    }
}

@Suite("WINDTRE Business")
struct WindtreTests {
    @Test func exactlyOneUserAdminPerVATNumberAndManyTelcoManagers() throws {
        let model = try Providers().model("windtre")
        #expect(model.cardinality(of: "user_admin")?.max == 1)
        #expect(model.cardinality(of: "user_admin")?.per == .vatNumber)
        #expect(failureCode(model.cardinalityAllowsAnother(role: "user_admin", existing: 1)) == "cardinality")
        #expect(isSuccess(model.cardinalityAllowsAnother(role: "telco_manager", existing: 50)))
    }

    @Test func onlyTheUserAdminCreatesTelcoManagersAndDeletesOnlyHisOwn() throws {
        let model = try Providers().model("windtre")
        let admin = try model.principal(role: "user_admin")
        let manager = try model.principal(role: "telco_manager")
        #expect(isSuccess(model.mayManage(actor: admin, actorID: "ua", action: .create, target: ManagedUser(role: "telco_manager", createdBy: "ua"))))
        #expect(isSuccess(model.mayManage(actor: admin, actorID: "ua", action: .delete, target: ManagedUser(id: "tm", role: "telco_manager", createdBy: "ua"))))
        #expect(failureCode(model.mayManage(actor: admin, actorID: "ua", action: .delete, target: ManagedUser(id: "tm", role: "telco_manager", createdBy: "other-ua"))) == "creator-only")
        #expect(failureCode(model.mayManage(actor: manager, actorID: "tm1", action: .create, target: ManagedUser(role: "telco_manager", createdBy: "tm1"))) == "not-delegated")
        #expect(failureCode(model.mayManage(actor: manager, actorID: "tm1", action: .delete, target: ManagedUser(id: "tm2", role: "telco_manager", createdBy: "tm1"))) == "not-delegated")
    }

    @Test func telcoManagersHaveEveryFunctionExceptManagingUsers() throws {
        let model = try Providers().model("windtre")
        let admin = Set(model.features(of: try model.principal(role: "user_admin")))
        let manager = Set(model.features(of: try model.principal(role: "telco_manager")))
        #expect(admin.subtracting(manager) == ["users.create", "users.manage"])
        #expect(manager.isSubset(of: admin))
    }

    @Test func telcoManagersCannotResetTheirPasswordAndAreToldWhy() throws {
        let providers = try Providers()
        let model = try providers.model("windtre")
        #expect(model.mayUseFlow(role: "user_admin", flow: "password_recovery"))
        #expect(!model.mayUseFlow(role: "telco_manager", flow: "password_recovery"))
        let message = try #require(try providers.definition("windtre").flows["password_recovery"]?.excludedMessage)
        #expect(message.resolve("it").contains("User Admin"))
    }

    @Test func recoveryIsControlCodeThenTemporaryNumericPasswordThenForcedChange() throws {
        let flow = try #require(try Providers().definition("windtre").flows["password_recovery"])
        #expect(flow.steps.map(\.step) == [.identify, .controlCode, .temporaryPassword])
        let temporary = try #require(flow.steps.last)
        #expect(temporary.charset == .numeric)
        #expect(temporary.forceChange == true)
    }

    @Test func registrationVerifiesTheLegalRepresentativeThenActivatesThenFirstLogin() throws {
        let definition = try Providers().definition("windtre")
        let flow = try #require(definition.flows["user_admin_registration"])
        #expect(flow.steps.map(\.step) == [.verifyCustomer, .activation, .firstLoginCredentials])
        #expect(Set(flow.steps[0].match ?? []) == ["vat_number", "legal_rep_email", "legal_rep_mobile", "legal_rep_first_name", "legal_rep_last_name", "legal_rep_birth_date", "legal_rep_tax_code"])
        #expect(definition.login.caseSensitive)
        #expect(definition.login.identifiers == [.username])
    }

    @Test func windowsRequestsAndThresholds() throws {
        let definition = try Providers().definition("windtre")
        #expect(definition.retention?["invoices"]?.visibleFor?.calendarMonths == 24)
        #expect(definition.retention?["usage"]?.visibleFor?.calendarMonths == 3)
        #expect(definition.retention?["usage"]?.exportMaxRange == DurationSpec(90, .days))
        let forms = try #require(definition.requests)
        #expect(forms.values.allSatisfy { $0.maxOpen == 1 && $0.group != nil }, "one open request at a time")
        #expect(forms.values.flatMap(\.fields).filter { $0.name == "notes" }.allSatisfy { $0.maxLength == 300 })
        #expect(forms.values.flatMap(\.fields).contains { $0.type == .lines && $0.maxItems == 10 })
        #expect(forms["sim_replacement"]?.lifecycle == ["assigned", "in_progress", "closed"])
        #expect(forms["imei_block"]?.fields.filter { $0.type == .attachment }.count ?? 0 >= 3)
        #expect(definition.notifications?["roaming_data_threshold"]?.thresholds == [80, 100])
        #expect(definition.browsers?["edge"] == "80")
        #expect(definition.browsers?["safari"] == "10.1")
        #expect(definition.contacts?.customerCare == "1928")
    }
}

@Suite("TIM Business")
struct TIMTests {
    static let exclusives: Set<String> = ["company.registered_office", "users.create", "users.change_role", "lines.relocation", "offers.activate"]

    @Test func fourRolesWithTheLegalRepresentativesExclusiveFunctions() throws {
        let providers = try Providers()
        let definition = try providers.definition("tim")
        #expect(definition.roles.keys == ["utilizzatore", "amministratore_light", "amministratore_full", "rappresentante_legale"])
        #expect(Set(definition.roles["rappresentante_legale"]?.exclusive ?? []) == Self.exclusives)
        let model = try providers.model("tim")
        for role in ["utilizzatore", "amministratore_light", "amministratore_full"] {
            let principal = try model.principal(role: role)
            for feature in Self.exclusives { #expect(!model.isAllowed(principal, feature), "\(role) must not have \(feature)") }
        }
    }

    @Test func fullAdministratorHasEverythingButTheExclusives() throws {
        let model = try Providers().model("tim")
        let legal = Set(model.features(of: try model.principal(role: "rappresentante_legale")))
        let full = Set(model.features(of: try model.principal(role: "amministratore_full")))
        #expect(legal.subtracting(full) == Self.exclusives)
        #expect(Set(model.featureIDs) == legal)
    }

    @Test func legalRepresentativeCannotBeChangedInThePortal() throws {
        let providers = try Providers()
        let model = try providers.model("tim")
        #expect(!model.isChangeableInPortal(role: "rappresentante_legale"))
        #expect(try providers.definition("tim").roles["rappresentante_legale"]?.changeHint?.resolve("it").contains("191") == true)
        let legal = try model.principal(role: "rappresentante_legale")
        #expect(failureCode(model.mayManage(actor: legal, actorID: "rl", action: .create, target: ManagedUser(role: "rappresentante_legale"))) == "role-not-changeable")
    }

    @Test func onlyTheLegalRepresentativeRegistersEmployeesAndChangesTheirProfile() throws {
        let model = try Providers().model("tim")
        let legal = try model.principal(role: "rappresentante_legale")
        let full = try model.principal(role: "amministratore_full")
        for role in ["amministratore_full", "amministratore_light", "utilizzatore"] {
            #expect(isSuccess(model.mayManage(actor: legal, actorID: "rl", action: .create, target: ManagedUser(role: role, createdBy: "rl"))))
            #expect(isSuccess(model.mayManage(actor: legal, actorID: "rl", action: .changeRole, target: ManagedUser(id: "e", role: role), previousRole: "utilizzatore")))
            #expect(failureCode(model.mayManage(actor: full, actorID: "af", action: .create, target: ManagedUser(role: role, createdBy: "af"))) == "not-delegated")
        }
    }

    @Test func userSeesOnlyTheConsumptionOfTheirOwnLine() throws {
        let model = try Providers().model("tim")
        let user = try model.principal(role: "utilizzatore")
        #expect(model.scope(user, "usage.view") == .ownLine)
        #expect(model.scope(try model.principal(role: "amministratore_full"), "usage.view") == .allLines)
        #expect(!model.isAllowed(user, "invoices.view"))
        #expect(model.isAllowed(user, "profile.edit"))
        #expect(model.isAllowed(user, "support.line_diagnosis"))
    }

    @Test func lightAdministratorMatchesTheSeedsList() throws {
        let model = try Providers().model("tim")
        let light = try model.principal(role: "amministratore_light")
        for feature in ["invoices.view", "invoices.pay", "invoices.detail", "invoices.personal", "usage.view", "usage.billed_reports", "credit.view",
                        "recharges.online", "recharges.history", "company.view", "lines.view", "offers.view", "support.chat", "support.fault_report", "support.line_diagnosis"] {
            #expect(model.isAllowed(light, feature), "light lacks \(feature)")
        }
        for feature in ["invoices.shipping_address", "invoices.direct_debit", "invoices.paperless", "company.communications_email", "sim.block", "sim.change"] {
            #expect(!model.isAllowed(light, feature), "light must not have \(feature)")
        }
        #expect(model.scope(light, "usage.view") == .ownLine)
    }
}

@Suite("Unidata MyUNI")
struct UnidataTests {
    static let toggles: [String: String] = ["contracts": "contracts.view", "invoices": "invoices.view", "payments": "invoices.pay",
                                            "usage": "usage.view", "master_data": "customer_data.edit", "billing_method": "billing.delivery_payment"]

    @Test func invitationExpiresAfterThirtyDaysAndStaffCanReissue() throws {
        let flow = try #require(try Providers().definition("unidata").flows["invitation"])
        let invitation = try #require(flow.steps.first)
        #expect(invitation.step == .invitation)
        #expect(invitation.expires == DurationSpec(30, .days))
        #expect(invitation.issuedBy == .staff)
        #expect(invitation.reissue == true)
        #expect(invitation.prefillEmail == true)
        #expect(Set(invitation.adminEmailFor ?? []) == ["business", "public_administration"])
        #expect(flow.steps.map(\.step).suffix(2) == [.confirmation, .automaticLogin])
        let password = try #require(flow.steps.first { $0.step == .password })
        #expect(password.strengthMeter == true && password.showToggle == true && password.confirm == true)
    }

    @Test(arguments: UnidataTests.toggles.sorted(by: { $0.key < $1.key }).map { [$0.key, $0.value] })
    func eachSimpleReferentToggleGrantsExactlyItsFeature(pair: [String]) throws {
        let model = try Providers().model("unidata")
        let off = try model.principal(role: "referente_semplice", customerType: "business")
        let on = try model.principal(role: "referente_semplice", toggles: [pair[0]], customerType: "business")
        #expect(!model.isAllowed(off, pair[1]))
        #expect(model.isAllowed(on, pair[1]))
        #expect(model.isAllowed(try model.principal(role: "referente_amministratore"), pair[1]))
    }

    @Test func privateCustomersHaveNoOtherUsers() throws {
        let model = try Providers().model("unidata")
        let adminOfPrivate = try model.principal(role: "referente_amministratore", customerType: "private")
        #expect(failureCode(model.mayManage(actor: adminOfPrivate, actorID: "a", action: .create, target: ManagedUser(role: "referente_semplice", createdBy: "a"))) == "customer-type")
        let adminOfBusiness = try model.principal(role: "referente_amministratore", customerType: "business")
        #expect(isSuccess(model.mayManage(actor: adminOfBusiness, actorID: "a", action: .create, target: ManagedUser(role: "referente_semplice", toggles: ["invoices"], createdBy: "a"))))
        #expect(isSuccess(model.mayManage(actor: adminOfBusiness, actorID: "a", action: .changeToggles, target: ManagedUser(id: "s", role: "referente_semplice", toggles: ["usage"], createdBy: "a"))))
        #expect(isSuccess(model.mayManage(actor: adminOfBusiness, actorID: "a", action: .delete, target: ManagedUser(id: "s", role: "referente_semplice", createdBy: "a"))))
        let simple = try model.principal(role: "referente_semplice", toggles: Set(Self.toggles.keys), customerType: "business")
        #expect(failureCode(model.mayManage(actor: simple, actorID: "s", action: .changeToggles, target: ManagedUser(id: "s2", role: "referente_semplice"))) == "not-delegated")
    }

    @Test func loginByUsernameOrEmailAndTheVisibilityWindows() throws {
        let definition = try Providers().definition("unidata")
        #expect(Set(definition.login.identifiers) == [.username, .email])
        #expect(definition.retention?["invoices"]?.visibleFor?.calendarMonths == 24)
        #expect(definition.retention?["usage"]?.visibleFor == DurationSpec(180, .days))
        #expect(definition.flows.values.contains { $0.purpose == .forgotUsername })
        #expect(definition.flows["password_recovery"]?.steps.last?.step == .automaticLogin)
    }
}

@Suite("Unogas Energia")
struct UnogasTests {
    @Test func registrationVerifiesTheBillDataThenAsksASecurityQuestion() throws {
        let flow = try #require(try Providers().definition("unogas").flows["registration"])
        #expect(flow.steps.map(\.step) == [.verifyCustomer, .activation, .credentials, .password, .securityQuestion, .confirmation])
        #expect(Set(flow.steps[0].match ?? []) == ["customer_code", "names", "tax_id"])
        #expect(flow.steps[0].optionalFields == ["phone"])
        #expect(flow.steps[1].deliverTo == [.customerEmail], "the bill's data are not secret: the link goes to the e-mail on record")
        #expect(flow.steps[2].username == .email)
        #expect(flow.steps[4].confirm == true)
        #expect(!flow.steps.contains { $0.step == .automaticLogin }, "the user closes the notice and logs in")
    }

    @Test func oneCustomerUserAndNoSubUsers() throws {
        let providers = try Providers()
        let definition = try providers.definition("unogas")
        #expect(definition.roles.keys == ["cliente"])
        #expect(definition.roles["cliente"]?.manages == nil)
        #expect(providers.result.tenants.count == 6)
        #expect(try providers.model("unogas").cardinality(of: "cliente")?.max == 1)
    }
}

@Suite("Tunda IT")
struct TundaTests {
    @Test func companyNameNamesAndTaxCodeAreImmutable() throws {
        let immutable = Set(try Providers().definition("tunda").fieldPolicies?.immutable ?? [])
        #expect(immutable.isSuperset(of: ["company_name", "first_name", "last_name", "tax_code", "vat_number"]))
    }

    @Test func emailIsTheUsernameUniqueAmongMainAccountsOnly() throws {
        let definition = try Providers().definition("tunda")
        let credentials = try #require(definition.flows["registration"]?.steps.first { $0.step == .credentials })
        #expect(credentials.username == .email)
        #expect(credentials.unique == .mainAccounts)
        #expect(definition.flows["registration"]?.steps.contains { $0.step == .summaryEmail } == true)
        #expect(definition.login.identifiers == [.email])
    }

    @Test func mainAccountDoesEverythingAndManagesLimitedSubAccounts() throws {
        let model = try Providers().model("tunda")
        let main = try model.principal(role: "main_account")
        let sub = try model.principal(role: "sub_account")
        #expect(Set(model.features(of: main)) == Set(model.featureIDs))
        #expect(model.features(of: sub) == ["knowledge_base.view"])
        let accounting = try model.principal(role: "sub_account", toggles: ["invoices", "payment_requests"])
        #expect(model.isAllowed(accounting, "invoices.view"))
        #expect(model.isAllowed(accounting, "notify.payment_requests"))
        #expect(!model.isAllowed(accounting, "notify.services"))
        for action in [UserAction.create, .block, .delete, .changeToggles] {
            #expect(isSuccess(model.mayManage(actor: main, actorID: "m", action: action, target: ManagedUser(id: "s", role: "sub_account", toggles: ["invoices"], createdBy: "m"))))
        }
        #expect(failureCode(model.mayManage(actor: sub, actorID: "s", action: .create, target: ManagedUser(role: "sub_account"))) == "not-delegated")
    }
}
