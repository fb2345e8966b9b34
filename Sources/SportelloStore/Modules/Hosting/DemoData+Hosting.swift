import Foundation
import SportelloCore

// Demo data for Tunda services, hosting, domains, knowledge base and Unidata help.

extension DemoDataGenerator {
    /// Rows shared by every customer of the tenant (catalogue items, articles…), made once per tenant.
    func seedHosting(in transaction: TenantTransaction) async throws {
        if tenant.feature("services.buy") != nil {
            for (position, product) in HostingDemoCatalog.products.enumerated() {
                try await transaction.insertCatalogItem(CatalogItemRecord(
                    kind: "product", code: product.code, title: product.title, description: product.description, category: product.category,
                    priceCents: product.priceCents, billingPeriod: product.period, position: Int64(position), data: product.data))
            }
        }
        if tenant.feature("domains.register") != nil {
            for (position, ext) in HostingDemoCatalog.extensions.enumerated() {
                try await transaction.insertCatalogItem(CatalogItemRecord(
                    kind: "domain_extension", code: ext.code, title: ".\(ext.code)", description: ext.description,
                    priceCents: ext.priceCents, billingPeriod: "year", position: Int64(position)))
            }
        }
        let updated = CalendarDay(instant: now)
        for (feature, collection, articles) in [("knowledge_base.view", "knowledge_base", HostingDemoArticles.tunda),
                                                ("help.view", "help", HostingDemoArticles.unidata)] where tenant.feature(feature) != nil {
            var rows: [ArticleRecord] = []
            for locale in tenant.locales.available {
                guard let texts = articles[locale] else { continue }
                for (position, article) in texts.enumerated() {
                    rows.append(ArticleRecord(collection: collection, category: article.category, slug: article.slug, title: article.title,
                                              summary: article.summary, body: article.paragraphs.joined(separator: "\n\n"), locale: locale,
                                              updatedOn: updated.adding(days: -(7 + position * 23)).description, position: Int64(position)))
                }
            }
            try await transaction.insertArticles(rows)
        }
    }

    /// Rows of one demo customer.
    func fillHosting(_ account: DemoAccount, random: inout SplitMix64, in transaction: TenantTransaction) async throws {
        let today = CalendarDay(instant: now)
        var hosted: [HostingAccountRecord] = []
        if tenant.feature("hosting.manage") != nil {
            let contracts = try await transaction.contracts(customerId: account.customerId)
            let shared = Set(contracts.filter { $0.offer.localizedCaseInsensitiveContains("hosting") }.compactMap(\.id))
            for line in try await transaction.lines(customerId: account.customerId) where line.kind == "hosting" && shared.contains(line.contractId) {
                // The plan is the one the contract names (the contracts page and the hosting page agree).
                let drawn = HostingDemoCatalog.products[Int(random.next() % 3)]
                let offer = contracts.first { $0.id == line.contractId }?.offer
                let plan = HostingDemoCatalog.products.first { $0.title == offer } ?? drawn
                let quota = HostingDemoCatalog.quotas(plan)
                var username = String(line.identifier.prefix { $0 != "." }.filter { $0.isLetter || $0.isNumber }.prefix(12))
                while try await transaction.hostingUsernameExists(username) { username += String(random.next() % 10) }
                var record = HostingAccountRecord(
                    customerId: account.customerId, lineId: line.id, domain: line.identifier, planCode: plan.code, planTitle: plan.title,
                    server: "web\(1 + random.next() % 12).tunda.it", username: username,
                    diskUsedMb: Int64(Double(quota.disk) * Double(10 + random.next() % 85) / 100), diskQuotaMb: quota.disk,
                    trafficUsedMb: Int64(Double(quota.traffic) * Double(3 + random.next() % 70) / 100), trafficQuotaMb: quota.traffic,
                    mailboxes: Int64(1 + random.next() % UInt64(max(1, quota.mailboxes))), mailboxQuota: quota.mailboxes,
                    phpVersion: HostingPolicy.phpVersions[1 + Int(random.next() % 3)], status: line.status == .active ? .active : .suspended,
                    expiresOn: line.expiresOn ?? today.adding(months: 6).description, createdAt: now - 400 * 86_400)
                record.id = try await transaction.insertHostingAccount(record)
                hosted.append(record)
            }
        }
        if tenant.feature("hosting.unblock_ip") != nil {
            var blocks: [BlockedAddressRecord] = []
            for hosting in hosted {
                guard let hostingId = hosting.id else { continue }
                for index in 0..<Int(random.next() % 4) {
                    let reason = HostingDemoCatalog.blockReasons[Int(random.next() % UInt64(HostingDemoCatalog.blockReasons.count))]
                    let address = index == 2
                        ? "2001:db8:\(String(random.next() % 0xffff, radix: 16))::\(String(1 + random.next() % 0xfff, radix: 16))"
                        : "\([79, 93, 151, 2, 5, 87][Int(random.next() % 6)]).\(random.next() % 256).\(random.next() % 256).\(1 + random.next() % 254)"
                    let at = now - Int64(600 + random.next() % (20 * 86_400))
                    let lifted = index == 1
                    blocks.append(BlockedAddressRecord(customerId: account.customerId, hostingAccountId: hostingId,
                                                       address: IPAddress.normalize(address) ?? address, reason: reason.reason, service: reason.service,
                                                       blockedAt: at, unblockedAt: lifted ? min(now - 60, at + 3_600) : nil,
                                                       unblockedBy: lifted ? account.users.first : nil))
                }
            }
            try await transaction.insertBlockedAddresses(blocks)
        }
        if tenant.feature("domains.register") != nil {
            var names = hosted.map(\.domain)
            if random.next() % 2 == 0, let first = names.first {
                names.append(first.replacingOccurrences(of: ".it", with: ".com"))
            }
            for name in names where !(try await transaction.domainTaken(name)) {
                let registered = today.adding(months: -(3 + Int(random.next() % 40)))
                var expiry = registered
                while expiry <= today { expiry = expiry.adding(months: 12) }
                try await transaction.insertDomain(DomainRecord(
                    customerId: account.customerId, name: name, tld: String(name.split(separator: ".").last ?? "it"), status: .active,
                    registeredOn: registered.description, expiresOn: expiry.description, autoRenew: random.next() % 4 != 0,
                    createdAt: registered.startInstant))
            }
        }
        // Orders: purchases already started (settled before these demo invoices, so no pro-forma of their own: the
        // demo's invoice history stays the plans' yearly ones). Pro-formas appear as soon as someone orders in the portal.
        if tenant.feature("services.buy") != nil, let hosting = hosted.first {
            for (code, daysAgo, quantity) in [("SSL-DV", 200, Int64(1)), ("BKP-DAILY", 40 + Int(random.next() % 20), Int64(12))] {
                guard let product = HostingDemoCatalog.products.first(where: { $0.code == code }) else { continue }
                let net = product.priceCents * quantity
                let day = today.adding(days: -daysAgo)
                let order = try await transaction.insertNumberedOrder(OrderRecord(
                    customerId: account.customerId, userId: account.users.first, number: "", kind: "product", itemCode: product.code,
                    title: product.title, target: hosting.domain, billingPeriod: product.period, quantity: quantity, netCents: net,
                    taxCents: HostingPolicy.tax(on: net), totalCents: net + HostingPolicy.tax(on: net), createdAt: day.startInstant + 36_000),
                    issuedOn: day)
                _ = try await transaction.markOrderActive(id: order.id ?? 0, customerId: account.customerId, on: day.adding(days: 1).description)
            }
        }
    }
}

/// Tunda's products, domain extensions and firewall reasons, as the demo seeds them.
enum HostingDemoCatalog {
    struct Product {
        var code, title, description, category, period: String
        var priceCents: Int64
        var data: String
    }

    static let products: [Product] = [
        Product(code: "HOST-START", title: "Hosting Linux Start", description: "Per siti vetrina e blog personali: 2 GB di spazio, 5 caselle email, certificato SSL Let's Encrypt incluso.",
                category: "hosting", period: "year", priceCents: 3_900,
                data: #"{"needs":"domain","disk_mb":2048,"traffic_mb":51200,"mailboxes":5}"#),
        Product(code: "HOST-PRO", title: "Hosting Linux Professional", description: "Per siti aziendali ed e-commerce: 15 GB su SSD, 25 caselle email, backup settimanale.",
                category: "hosting", period: "year", priceCents: 8_900,
                data: #"{"needs":"domain","disk_mb":15360,"traffic_mb":204800,"mailboxes":25}"#),
        Product(code: "HOST-BUSINESS", title: "Hosting Linux Business", description: "Risorse dedicate per siti ad alto traffico: 40 GB su NVMe, 100 caselle email, backup giornaliero.",
                category: "hosting", period: "year", priceCents: 17_900,
                data: #"{"needs":"domain","disk_mb":40960,"traffic_mb":512000,"mailboxes":100}"#),
        Product(code: "SSL-DV", title: "Certificato SSL DV", description: "Certificato a validazione di dominio, riconosciuto da tutti i browser, installazione inclusa.",
                category: "ssl", period: "year", priceCents: 2_900, data: #"{"needs":"domain"}"#),
        Product(code: "SSL-WILDCARD", title: "Certificato SSL Wildcard", description: "Protegge il dominio e tutti i suoi sottodomini (*.tuodominio.it).",
                category: "ssl", period: "year", priceCents: 14_900, data: #"{"needs":"domain"}"#),
        Product(code: "BKP-DAILY", title: "Backup giornaliero 30 giorni", description: "Copia giornaliera di file, database e posta con conservazione per 30 giorni e ripristino dal pannello.",
                category: "backup", period: "month", priceCents: 490, data: #"{"needs":"hosting"}"#),
        Product(code: "MAIL-10", title: "10 caselle email aggiuntive", description: "Aggiunge 10 caselle email da 5 GB all'hosting scelto.",
                category: "email", period: "year", priceCents: 1_900, data: #"{"needs":"hosting","extra_mailboxes":10}"#),
        Product(code: "PEC-STD", title: "Casella PEC Standard", description: "Posta elettronica certificata da 2 GB con valore legale, conforme al Codice dell'Amministrazione Digitale.",
                category: "pec", period: "year", priceCents: 900, data: #"{"needs":"domain"}"#),
    ]

    static func quotas(_ product: Product) -> (disk: Int64, traffic: Int64, mailboxes: Int64) {
        struct Quota: Decodable { var diskMb: Int64?; var trafficMb: Int64?; var mailboxes: Int64? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let quota = try? decoder.decode(Quota.self, from: Data(product.data.utf8))
        return (quota?.diskMb ?? 2048, quota?.trafficMb ?? 51_200, quota?.mailboxes ?? 5)
    }

    static let extensions: [(code: String, description: String, priceCents: Int64)] = [
        ("it", "Il dominio italiano, per persone e aziende residenti nell'Unione Europea", 990),
        ("com", "Il dominio commerciale internazionale", 1_290),
        ("eu", "Il dominio dell'Unione Europea", 890),
        ("net", "Per servizi e reti", 1_390),
        ("org", "Per associazioni ed enti senza scopo di lucro", 1_490),
        ("info", "Per siti informativi", 1_990),
        ("shop", "Per negozi online", 3_490),
    ]

    static let blockReasons: [(reason: String, service: String)] = [
        ("ftp_login", "FTP"), ("mail_login", "IMAP"), ("mail_login", "SMTP"), ("cms_login", "wp-login.php"), ("ssh_login", "SSH"),
    ]
}

/// The demo help articles: Tunda's knowledge base and Unidata's online help, in Italian and English.
enum HostingDemoArticles {
    struct Article {
        var category, slug, title, summary: String
        var paragraphs: [String]
    }

    static let tunda: [String: [Article]] = [
        "it": [
            Article(category: "Area Cliente", slug: "accesso-area-cliente", title: "Come accedo all'Area Cliente?",
                    summary: "Indirizzo, nome utente e password dell'Area Cliente Tunda IT.",
                    paragraphs: ["L'Area Cliente si trova su https://clienti.tunda.it. Il nome utente è l'indirizzo email con cui ti sei registrato: se cambi l'email del contatto, cambia anche il nome utente.",
                                 "Se non ricordi la password usa il pulsante \"Password dimenticata?\" nella pagina di accesso: riceverai per email un link per sceglierne una nuova, che deve rispettare le regole di complessità.",
                                 "Nessun collaboratore di Tunda IT ti chiederà mai la password: non comunicarla a nessuno."]),
            Article(category: "Area Cliente", slug: "sub-account", title: "Creare sub-account per i collaboratori",
                    summary: "Dai accesso limitato all'Area Cliente a chi lavora con te.",
                    paragraphs: ["L'account principale può creare sub-account per i collaboratori, scegliendo cosa possono fare (ad esempio solo vedere le fatture) e quali notifiche ricevono.",
                                 "Quando un collaboratore non ha più bisogno di accedere puoi bloccare o eliminare il suo sub-account senza toccare l'account principale.",
                                 "Un sub-account può usare un indirizzo email già usato altrove, ma sconsigliamo di usare la stessa email per clienti diversi: le risposte ai ticket arriverebbero a entrambi."]),
            Article(category: "Hosting", slug: "versione-php", title: "Cambiare la versione di PHP del sito",
                    summary: "Scegli la versione di PHP adatta al tuo CMS dalla pagina Hosting.",
                    paragraphs: ["Nella pagina Hosting dell'Area Cliente trovi la versione di PHP usata da ogni spazio web. Puoi sceglierne un'altra tra quelle supportate: la modifica è attiva entro un paio di minuti.",
                                 "Prima di cambiare versione verifica che il tuo CMS e i suoi plugin siano compatibili: WordPress, Joomla e PrestaShop recenti funzionano con PHP 8.2 e 8.3.",
                                 "Le versioni più vecchie come la 7.4 non ricevono più aggiornamenti di sicurezza: usale solo il tempo necessario ad aggiornare il sito."]),
            Article(category: "Hosting", slug: "ip-bloccato", title: "Il mio indirizzo IP è stato bloccato dal firewall",
                    summary: "Perché il firewall blocca un indirizzo e come sbloccarlo da solo.",
                    paragraphs: ["Sui server di hosting condiviso il firewall blocca per qualche ora gli indirizzi IP che sbagliano più volte la password di FTP, posta o pannello del sito: è una protezione contro i tentativi di accesso automatici.",
                                 "Se non riesci più a raggiungere il tuo sito o la posta da un ufficio, controlla nella pagina Firewall dell'Area Cliente: puoi verificare il tuo indirizzo e sbloccarlo con un clic. Lo sblocco è disponibile solo per l'hosting condiviso.",
                                 "Dopo lo sblocco correggi la password salvata nel programma di posta o nel client FTP, altrimenti il blocco si ripeterà."]),
            Article(category: "Hosting", slug: "spazio-disco", title: "Spazio disco e traffico: cosa succede se li supero",
                    summary: "Come leggere i consumi del tuo hosting.",
                    paragraphs: ["Per ogni hosting l'Area Cliente mostra lo spazio disco e il traffico usati rispetto a quelli del piano. I dati sono aggiornati ogni notte.",
                                 "Quando superi l'80% dello spazio ti inviamo un avviso. Oltre il 100% il sito continua a funzionare ma non è più possibile caricare file o ricevere posta.",
                                 "Per liberare spazio svuota le caselle email più piene ed elimina i vecchi backup; se non basta puoi acquistare un piano superiore dalla pagina Acquista servizi."]),
            Article(category: "Posta elettronica", slug: "configurare-posta", title: "Configurare la posta su computer e smartphone",
                    summary: "Parametri IMAP e SMTP per le caselle del tuo dominio.",
                    paragraphs: ["Per ricevere la posta usa IMAP sul server mail.tuodominio.it, porta 993 con SSL. Per inviarla usa SMTP sullo stesso server, porta 465 con SSL e autenticazione.",
                                 "Il nome utente è l'indirizzo email completo e la password è quella della casella, non quella dell'Area Cliente.",
                                 "Se il programma di posta continua a chiedere la password, controlla che sia corretta: troppi tentativi sbagliati fanno bloccare il tuo indirizzo IP dal firewall."]),
            Article(category: "Posta elettronica", slug: "pec", title: "La casella PEC",
                    summary: "Cos'è la posta elettronica certificata e come si attiva.",
                    paragraphs: ["La PEC ha lo stesso valore legale di una raccomandata con ricevuta di ritorno. Puoi acquistarla dalla pagina Acquista servizi.",
                                 "Dopo il pagamento della proforma la casella viene attivata e ricevi per email le credenziali. Ricorda di comunicare il nuovo indirizzo PEC al Registro delle Imprese se sei un'azienda."]),
            Article(category: "Domini", slug: "registrare-dominio", title: "Registrare un nuovo dominio",
                    summary: "Verifica la disponibilità, ordina e paga la proforma.",
                    paragraphs: ["Dalla pagina Domini scrivi il nome che desideri: ti diciamo subito se è scritto correttamente, se l'estensione è tra quelle che registriamo e se è libero.",
                                 "Il dominio viene registrato con i dati della tua scheda anagrafica: per questo è importante che siano completi e corretti.",
                                 "L'ordine crea una proforma: la registrazione parte appena la proforma risulta pagata."]),
            Article(category: "Domini", slug: "rinnovo-automatico", title: "Rinnovo automatico dei domini",
                    summary: "Evita che un dominio scada e venga registrato da altri.",
                    paragraphs: ["Con il rinnovo automatico attivo ti inviamo la proforma di rinnovo 30 giorni prima della scadenza. Puoi attivarlo o disattivarlo per ogni dominio dalla pagina Domini.",
                                 "Un dominio scaduto resta sospeso per un periodo di recupero, poi torna libero e chiunque può registrarlo: ti consigliamo di lasciare attivo il rinnovo per i domini importanti."]),
            Article(category: "Fatturazione", slug: "proforma-paypal", title: "Pagare una proforma",
                    summary: "Le proforma si pagano online con PayPal.",
                    paragraphs: ["Ogni ordine e ogni rinnovo genera una proforma. Puoi pagarla dalla pagina Fatture dell'Area Cliente: i servizi si attivano appena il pagamento è registrato.",
                                 "Dopo il pagamento ricevi la fattura elettronica, che trovi anche nell'Area Cliente.",
                                 "Se vuoi pagare più proforma con un solo pagamento apri un ticket all'amministrazione: l'accorpamento non si può fare in autonomia."]),
            Article(category: "Fatturazione", slug: "dati-fatturazione", title: "Modificare i dati di fatturazione",
                    summary: "Quali dati puoi cambiare e quali richiedono una nuova anagrafica.",
                    paragraphs: ["Puoi cambiare in qualsiasi momento indirizzo, telefono, PEC e codice destinatario dalla pagina Profilo.",
                                 "Ragione sociale, nome e cognome, codice fiscale e partita IVA non si possono modificare: se sono cambiati serve una nuova scheda anagrafica a cui trasferiremo i servizi. Apri un ticket all'amministrazione."]),
            Article(category: "Sicurezza", slug: "sito-sicuro", title: "Cinque consigli per tenere il sito al sicuro",
                    summary: "Aggiornamenti, password e backup.",
                    paragraphs: ["Aggiorna regolarmente CMS, temi e plugin: la maggior parte degli attacchi sfrutta versioni vecchie.",
                                 "Usa password diverse per FTP, database e pannello del sito, e cambiale quando un collaboratore smette di lavorare con te.",
                                 "Attiva il backup giornaliero: in caso di problemi potrai ripristinare il sito com'era il giorno prima."]),
        ],
        "en": [
            Article(category: "Client Area", slug: "accesso-area-cliente", title: "How do I sign in to the Client Area?",
                    summary: "Address, username and password of the Tunda IT Client Area.",
                    paragraphs: ["The Client Area is at https://clienti.tunda.it. Your username is the e-mail address you registered with: changing the contact's e-mail also changes the username.",
                                 "If you forgot your password, use \"Forgot password?\" on the sign-in page: we e-mail you a link to choose a new one, which must meet the complexity rules.",
                                 "Tunda IT staff will never ask for your password: do not share it with anyone."]),
            Article(category: "Client Area", slug: "sub-account", title: "Sub-accounts for your collaborators",
                    summary: "Give limited access to the people who work with you.",
                    paragraphs: ["The main account can create sub-accounts for collaborators, choosing what they may do (for example only view invoices) and which notifications they receive.",
                                 "When a collaborator no longer needs access, block or delete their sub-account without touching the main account.",
                                 "A sub-account may reuse an e-mail address used elsewhere, but we advise against using the same address for different customers: ticket replies would reach both."]),
            Article(category: "Hosting", slug: "versione-php", title: "Changing your site's PHP version",
                    summary: "Pick the PHP version your CMS needs on the Hosting page.",
                    paragraphs: ["The Hosting page shows the PHP version of each web space. You can pick another supported version: the change takes effect within a couple of minutes.",
                                 "Before switching, check that your CMS and its plugins support it: recent WordPress, Joomla and PrestaShop run on PHP 8.2 and 8.3.",
                                 "Old versions such as 7.4 no longer receive security fixes: use them only while you update your site."]),
            Article(category: "Hosting", slug: "ip-bloccato", title: "My IP address was blocked by the firewall",
                    summary: "Why the firewall blocks an address and how to unblock it yourself.",
                    paragraphs: ["On shared hosting servers the firewall blocks for a few hours the addresses that repeatedly fail the FTP, mail or site password: it protects you from automated attacks.",
                                 "If you can no longer reach your site or mail from an office, open the Firewall page of the Client Area: check your address and unblock it with one click. Unblocking is available for shared hosting only.",
                                 "After unblocking, fix the password saved in your mail or FTP client, or the block will come back."]),
            Article(category: "Hosting", slug: "spazio-disco", title: "Disk space and traffic: what happens when I exceed them",
                    summary: "How to read your hosting usage.",
                    paragraphs: ["For each hosting account the Client Area shows disk space and traffic used against the plan's quota, updated every night.",
                                 "Above 80% of the disk we send a warning. Above 100% the site keeps working but you can no longer upload files or receive mail.",
                                 "Free space by emptying the fullest mailboxes and deleting old backups; if that is not enough, buy a larger plan from Buy services."]),
            Article(category: "E-mail", slug: "configurare-posta", title: "Setting up e-mail on computers and phones",
                    summary: "IMAP and SMTP settings for your domain's mailboxes.",
                    paragraphs: ["To receive mail use IMAP on mail.yourdomain.it, port 993 with SSL. To send, use SMTP on the same server, port 465 with SSL and authentication.",
                                 "The username is the full e-mail address and the password is the mailbox's, not the Client Area's.",
                                 "If your mail client keeps asking for the password, check it: too many wrong attempts make the firewall block your IP address."]),
            Article(category: "E-mail", slug: "pec", title: "Certified e-mail (PEC)",
                    summary: "What PEC is and how it is activated.",
                    paragraphs: ["PEC has the legal value of a registered letter with return receipt. You can buy it from Buy services.",
                                 "Once the pro-forma is paid the mailbox is activated and we e-mail you its credentials. Businesses must notify the new PEC address to the Companies Register."]),
            Article(category: "Domains", slug: "registrare-dominio", title: "Registering a new domain",
                    summary: "Check availability, order and pay the pro-forma.",
                    paragraphs: ["On the Domains page type the name you want: we tell you at once whether it is well formed, whether we register its extension and whether it is free.",
                                 "The domain is registered with the details of your customer record, so keep them complete and correct.",
                                 "The order creates a pro-forma: registration starts as soon as it is paid."]),
            Article(category: "Domains", slug: "rinnovo-automatico", title: "Automatic domain renewal",
                    summary: "Do not let a domain expire and be registered by someone else.",
                    paragraphs: ["With automatic renewal on, we send the renewal pro-forma 30 days before expiry. Switch it on or off for each domain on the Domains page.",
                                 "An expired domain stays suspended for a grace period, then becomes free for anyone to register: keep renewal on for the domains that matter."]),
            Article(category: "Billing", slug: "proforma-paypal", title: "Paying a pro-forma invoice",
                    summary: "Pro-forma invoices are paid online with PayPal.",
                    paragraphs: ["Every order and renewal creates a pro-forma. Pay it from the Invoices page: services start as soon as the payment is recorded.",
                                 "After payment you receive the electronic invoice, also available in the Client Area.",
                                 "To pay several pro-formas with one payment, open an administration ticket: merging cannot be done by yourself."]),
            Article(category: "Billing", slug: "dati-fatturazione", title: "Changing your billing details",
                    summary: "Which details you can change and which need a new customer record.",
                    paragraphs: ["You can change address, phone, PEC and recipient code at any time from the Profile page.",
                                 "Company name, first and last name, tax code and VAT number cannot be changed: if they changed, a new customer record is needed and we transfer your services to it. Open an administration ticket."]),
            Article(category: "Security", slug: "sito-sicuro", title: "Five tips to keep your site safe",
                    summary: "Updates, passwords and backups.",
                    paragraphs: ["Update your CMS, themes and plugins regularly: most attacks exploit old versions.",
                                 "Use different passwords for FTP, database and site admin, and change them when a collaborator leaves.",
                                 "Switch on daily backup: if something goes wrong you can restore the site as it was the day before."]),
        ],
    ]

    static let unidata: [String: [Article]] = [
        "it": [
            Article(category: "Primo accesso", slug: "completare-registrazione", title: "Completare la registrazione a MyUNI",
                    summary: "L'invito del Customer Care e i 30 giorni per completarlo.",
                    paragraphs: ["All'attivazione del primo contratto il Customer Care Unidata ti invia un'email con il nome utente già assegnato e il link per completare la registrazione.",
                                 "Il link vale 30 giorni. Per i clienti Small Business e Pubblica Amministrazione la registrazione va completata dall'Amministratore: se non lo sei, inoltra l'email al referente aziendale.",
                                 "Se l'invito è scaduto contatta il Customer Care, che te ne invierà uno nuovo."]),
            Article(category: "Primo accesso", slug: "credenziali-dimenticate", title: "Ho dimenticato nome utente o password",
                    summary: "Recuperare le credenziali dalla pagina di accesso.",
                    paragraphs: ["Dalla pagina di accesso scegli \"Nome utente dimenticato\": riceverai il nome utente all'indirizzo email registrato.",
                                 "Per la password scegli \"Password dimenticata\" e indica il nome utente o l'email: il link ricevuto ti permette di sceglierne una nuova e di entrare subito in MyUNI."]),
            Article(category: "Utenti", slug: "referenti-semplici", title: "Referente Amministratore e Referenti Semplici",
                    summary: "Chi può fare cosa in MyUNI.",
                    paragraphs: ["Il Referente Amministratore è abilitato a tutti i servizi. Per i clienti Small Business e Pubblica Amministrazione può registrare Referenti Semplici e decidere cosa possono fare: consultare i contratti, vedere le fatture, pagare online, verificare i consumi.",
                                 "Un Referente Semplice che ha bisogno di altre abilitazioni deve chiederle al proprio Referente Amministratore.",
                                 "Per i clienti privati il titolare è l'unico utente di MyUNI."]),
            Article(category: "Fatture e pagamenti", slug: "consultare-fatture", title: "Consultare e scaricare le fatture",
                    summary: "Le fatture degli ultimi due anni.",
                    paragraphs: ["Nella sezione Fatture trovi le fatture emesse negli ultimi due anni: puoi visualizzarle, stamparle e salvarle in PDF.",
                                 "Le fatture più vecchie non sono più consultabili online: per una copia contatta il Customer Care."]),
            Article(category: "Fatture e pagamenti", slug: "pagamenti-online", title: "Pagare online le fatture",
                    summary: "Pagamento con carta delle fatture scadute o in scadenza.",
                    paragraphs: ["Dalla sezione Fatture puoi pagare con carta di pagamento le fatture scadute o in scadenza. Il pagamento viene registrato subito.",
                                 "Se hai fatture non pagate oltre la scadenza, lo Stato Amministrativo nella pagina iniziale te lo segnala: regolarizza i pagamenti per evitare la sospensione dei servizi."]),
            Article(category: "Fatture e pagamenti", slug: "estratto-conto", title: "L'estratto conto",
                    summary: "Addebiti, pagamenti e saldo.",
                    paragraphs: ["L'estratto conto elenca fatture e pagamenti con il saldo progressivo. Puoi vedere solo le partite aperte e stamparlo o salvarlo.",
                                 "Un pagamento con bonifico compare dopo l'accredito, di solito entro tre giorni lavorativi."]),
            Article(category: "Fatture e pagamenti", slug: "modalita-invio-pagamento", title: "Cambiare modalità di invio e di pagamento",
                    summary: "Fattura via email o carta, SEPA o bonifico.",
                    paragraphs: ["Dalla sezione I tuoi dati puoi scegliere come ricevere le fatture e come pagarle, ad esempio con addebito diretto SEPA indicando l'IBAN.",
                                 "La modifica vale dalla prima fattura emessa dopo la richiesta."]),
            Article(category: "Consumi", slug: "dettaglio-chiamate", title: "Il dettaglio delle chiamate",
                    summary: "Traffico e costi degli ultimi 180 giorni.",
                    paragraphs: ["Nella sezione Consumi trovi il dettaglio di chiamate e traffico dati degli ultimi 180 giorni per ogni linea, con i costi.",
                                 "Puoi filtrare per periodo e tipo di traffico ed esportare i dati in un foglio di calcolo."]),
            Article(category: "Contratti", slug: "contratti-attivi", title: "I contratti attivi e i servizi",
                    summary: "Cosa mostra la sezione Contratti.",
                    paragraphs: ["La sezione Contratti elenca i contratti attivi con le linee e i servizi collegati, la data di inizio e la scadenza.",
                                 "Per attivare nuovi servizi o disdire un contratto rivolgiti al Customer Care o al tuo commerciale di riferimento."]),
            Article(category: "I tuoi dati", slug: "modifiche-anagrafiche", title: "Richiedere modifiche anagrafiche",
                    summary: "Cambiare indirizzo, contatti e dati del cliente.",
                    paragraphs: ["Dalla sezione I tuoi dati puoi modificare recapiti e indirizzi. Alcuni dati, come la ragione sociale o la partita IVA, richiedono una verifica del Customer Care.",
                                 "Ogni modifica è registrata e ti confermiamo per email quelle che richiedono una verifica."]),
            Article(category: "Sicurezza", slug: "password-sicura", title: "Scegliere una password sicura",
                    summary: "I requisiti della password MyUNI.",
                    paragraphs: ["Mentre scrivi la password MyUNI ti mostra i requisiti soddisfatti e una barra di robustezza. Puoi anche visualizzarla in chiaro per controllarla.",
                                 "Usa una password che non usi altrove e non comunicarla a nessuno: Unidata non te la chiederà mai."]),
            Article(category: "Assistenza", slug: "contattare-customer-care", title: "Contattare il Customer Care",
                    summary: "Quando MyUNI non basta.",
                    paragraphs: ["Per tutto ciò che non puoi fare in MyUNI, come l'assegnazione del profilo di Referente Amministratore, contatta il Customer Care Unidata.",
                                 "Tieni a portata di mano il codice cliente, che trovi nella pagina iniziale di MyUNI."]),
        ],
        "en": [
            Article(category: "First access", slug: "completare-registrazione", title: "Completing your MyUNI registration",
                    summary: "Customer Care's invitation and the 30 days to complete it.",
                    paragraphs: ["When your first contract starts, Unidata Customer Care e-mails you the username already assigned and a link to complete your registration.",
                                 "The link is valid for 30 days. Small Business and Public Administration customers: the Administrator completes registration; if that is not you, forward the e-mail to them.",
                                 "If the invitation expired, contact Customer Care for a new one."]),
            Article(category: "First access", slug: "credenziali-dimenticate", title: "I forgot my username or password",
                    summary: "Recovering your credentials from the sign-in page.",
                    paragraphs: ["On the sign-in page choose \"Forgot username\": we send the username to your registered e-mail address.",
                                 "For the password choose \"Forgot password\" and give your username or e-mail: the link lets you choose a new one and enter MyUNI at once."]),
            Article(category: "Users", slug: "referenti-semplici", title: "Administrator and simple referents",
                    summary: "Who can do what in MyUNI.",
                    paragraphs: ["The Administrator referent may use every service. For Small Business and Public Administration customers they can register simple referents and decide what each may do: view contracts, view invoices, pay online, check usage.",
                                 "A simple referent who needs more must ask their Administrator.",
                                 "For private customers the holder is the only MyUNI user."]),
            Article(category: "Invoices and payments", slug: "consultare-fatture", title: "Viewing and downloading invoices",
                    summary: "The invoices of the last two years.",
                    paragraphs: ["The Invoices section lists the invoices issued in the last two years: view, print and save them as PDF.",
                                 "Older invoices are no longer online: ask Customer Care for a copy."]),
            Article(category: "Invoices and payments", slug: "pagamenti-online", title: "Paying invoices online",
                    summary: "Card payment of overdue or due invoices.",
                    paragraphs: ["From the Invoices section you can pay overdue or due invoices by card. The payment is recorded at once.",
                                 "If you have invoices unpaid past their due date, the Administrative status on the home page tells you: settle them to avoid suspension."]),
            Article(category: "Invoices and payments", slug: "estratto-conto", title: "The account statement",
                    summary: "Debits, payments and balance.",
                    paragraphs: ["The statement lists invoices and payments with the running balance. Show open items only, print it or save it.",
                                 "A bank transfer appears once credited, usually within three working days."]),
            Article(category: "Invoices and payments", slug: "modalita-invio-pagamento", title: "Changing delivery and payment method",
                    summary: "Invoices by e-mail or post, SEPA or transfer.",
                    paragraphs: ["In Your data choose how to receive invoices and how to pay them, for example SEPA direct debit with your IBAN.",
                                 "The change applies from the first invoice issued after the request."]),
            Article(category: "Usage", slug: "dettaglio-chiamate", title: "Call detail",
                    summary: "Traffic and costs of the last 180 days.",
                    paragraphs: ["The Usage section shows calls and data traffic of the last 180 days for each line, with costs.",
                                 "Filter by period and kind of traffic and export the data to a spreadsheet."]),
            Article(category: "Contracts", slug: "contratti-attivi", title: "Active contracts and services",
                    summary: "What the Contracts section shows.",
                    paragraphs: ["The Contracts section lists active contracts with their lines and services, start date and expiry.",
                                 "To add services or terminate a contract contact Customer Care or your sales representative."]),
            Article(category: "Your data", slug: "modifiche-anagrafiche", title: "Requesting master-data changes",
                    summary: "Changing address, contacts and customer details.",
                    paragraphs: ["In Your data you can change contacts and addresses. Some details, such as the company name or VAT number, need a check by Customer Care.",
                                 "Every change is recorded and we confirm by e-mail those that need a check."]),
            Article(category: "Security", slug: "password-sicura", title: "Choosing a safe password",
                    summary: "MyUNI's password requirements.",
                    paragraphs: ["While you type, MyUNI shows the requirements met and a strength bar. You can also show the password in clear to check it.",
                                 "Use a password you do not use elsewhere and never share it: Unidata will never ask for it."]),
            Article(category: "Support", slug: "contattare-customer-care", title: "Contacting Customer Care",
                    summary: "When MyUNI is not enough.",
                    paragraphs: ["For anything you cannot do in MyUNI, such as assigning the Administrator profile, contact Unidata Customer Care.",
                                 "Keep your customer code at hand: it is on the MyUNI home page."]),
        ],
    ]
}
