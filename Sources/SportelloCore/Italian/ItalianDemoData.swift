/// Pools of realistic Italian data for demo tenants, fixtures and benchmarks.
public enum ItalianDemoData {

    /// An Italian municipality with its real codes.
    public struct Municipality: Sendable, Hashable {
        public let name: String
        /// Two-letter province abbreviation (sigla), e.g. `RM`.
        public let province: String
        /// A CAP in use in the municipality.
        public let postalCode: String
        /// Cadastral (Belfiore) code, as used in the codice fiscale.
        public let cadastralCode: String

        public init(name: String, province: String, postalCode: String, cadastralCode: String) {
            self.name = name
            self.province = province
            self.postalCode = postalCode
            self.cadastralCode = cadastralCode
        }
    }

    /// An Italian bank with its ABI code.
    public struct Bank: Sendable, Hashable {
        /// Five-digit ABI code.
        public let abi: String
        public let name: String

        public init(abi: String, name: String) {
            self.abi = abi
            self.name = name
        }
    }

    /// The element of `pool` selected by `n` (modulo the pool size); `pool` must not be empty.
    public static func pick<T>(_ pool: [T], _ n: UInt64) -> T {
        precondition(!pool.isEmpty, "pick from an empty pool")
        return pool[Int(n % UInt64(pool.count))]
    }

    public static let maleFirstNames: [String] = [
        "Marco", "Giuseppe", "Giovanni", "Antonio", "Mario", "Luigi", "Francesco", "Alessandro",
        "Andrea", "Luca", "Matteo", "Lorenzo", "Leonardo", "Davide", "Simone", "Stefano",
        "Roberto", "Paolo", "Massimo", "Fabio", "Riccardo", "Gabriele", "Tommaso", "Federico",
        "Edoardo", "Emanuele", "Salvatore", "Vincenzo", "Pietro", "Carlo", "Claudio", "Daniele",
        "Alberto", "Michele", "Nicola", "Enrico", "Filippo", "Giacomo", "Raffaele", "Domenico",
        "Sergio", "Franco", "Bruno", "Angelo", "Maurizio", "Giorgio", "Diego", "Christian",
        "Samuele", "Mattia", "Cristian", "Gianluca", "Massimiliano", "Alessio", "Valerio",
        "Ettore", "Umberto", "Vittorio", "Rocco", "Niccolò",
    ]

    public static let femaleFirstNames: [String] = [
        "Maria", "Anna", "Giulia", "Francesca", "Sara", "Laura", "Chiara", "Valentina",
        "Alessandra", "Martina", "Elena", "Federica", "Silvia", "Paola", "Roberta", "Giovanna",
        "Rosa", "Angela", "Lucia", "Giuseppina", "Antonella", "Simona", "Monica", "Barbara",
        "Elisa", "Cristina", "Daniela", "Claudia", "Serena", "Ilaria", "Alice", "Sofia",
        "Aurora", "Ginevra", "Beatrice", "Emma", "Greta", "Giorgia", "Camilla", "Arianna",
        "Noemi", "Eleonora", "Veronica", "Stefania", "Patrizia", "Manuela", "Carla", "Teresa",
        "Caterina", "Marta", "Irene", "Benedetta", "Rebecca", "Viola", "Ludovica", "Margherita",
        "Nicoletta", "Raffaella", "Gabriella", "Letizia",
    ]

    public static let surnames: [String] = [
        "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
        "Marino", "Greco", "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa",
        "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana", "Santoro", "Mariani",
        "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone", "Longo", "Gentile",
        "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "D'Angelo", "Marchetti",
        "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini",
        "Grasso", "Valentini", "Messina", "Sala", "De Angelis", "Gatti", "Pellegrini", "Palumbo",
        "Sanna", "Farina", "Rizzi", "Monti", "Cattaneo", "Morelli", "Amato", "Silvestri",
        "Mazza", "Testa", "Grassi", "Pellegrino", "Carbone", "Giuliani", "Benedetti", "Barone",
        "Rossetti", "Caputo", "Montanari", "Guerra", "Palmieri", "Bernardi", "Martino", "Fiore",
        "De Rosa", "Ferretti", "Bellini", "Basile", "Riva", "Donati", "Piras", "Vitali",
        "Battaglia", "Sartori", "Neri", "Costantini", "Milani", "Pagano", "Ruggiero", "Sorrentino",
        "D'Amico", "Orlando", "Ferrante", "Negri", "Fumagalli", "Marchi", "Bassi", "Ricciardi",
        "Cirillo", "Bellucci", "Colonna", "Giacomelli", "Zanetti", "Brambilla", "Guidi", "Longhi",
        "Ferrero", "Bonetti", "Rota", "Melis", "Pace", "Agostini", "Cocco", "Tosi",
    ]

    /// Real municipalities; cadastral codes and CAPs are the official ones.
    public static let municipalities: [Municipality] = [
        Municipality(name: "Roma", province: "RM", postalCode: "00184", cadastralCode: "H501"),
        Municipality(name: "Milano", province: "MI", postalCode: "20121", cadastralCode: "F205"),
        Municipality(name: "Napoli", province: "NA", postalCode: "80121", cadastralCode: "F839"),
        Municipality(name: "Torino", province: "TO", postalCode: "10121", cadastralCode: "L219"),
        Municipality(name: "Palermo", province: "PA", postalCode: "90133", cadastralCode: "G273"),
        Municipality(name: "Genova", province: "GE", postalCode: "16121", cadastralCode: "D969"),
        Municipality(name: "Bologna", province: "BO", postalCode: "40121", cadastralCode: "A944"),
        Municipality(name: "Firenze", province: "FI", postalCode: "50122", cadastralCode: "D612"),
        Municipality(name: "Bari", province: "BA", postalCode: "70121", cadastralCode: "A662"),
        Municipality(name: "Catania", province: "CT", postalCode: "95121", cadastralCode: "C351"),
        Municipality(name: "Venezia", province: "VE", postalCode: "30121", cadastralCode: "L736"),
        Municipality(name: "Verona", province: "VR", postalCode: "37121", cadastralCode: "L781"),
        Municipality(name: "Messina", province: "ME", postalCode: "98121", cadastralCode: "F158"),
        Municipality(name: "Padova", province: "PD", postalCode: "35121", cadastralCode: "G224"),
        Municipality(name: "Trieste", province: "TS", postalCode: "34121", cadastralCode: "L424"),
        Municipality(name: "Brescia", province: "BS", postalCode: "25121", cadastralCode: "B157"),
        Municipality(name: "Parma", province: "PR", postalCode: "43121", cadastralCode: "G337"),
        Municipality(name: "Prato", province: "PO", postalCode: "59100", cadastralCode: "G999"),
        Municipality(name: "Modena", province: "MO", postalCode: "41121", cadastralCode: "F257"),
        Municipality(name: "Reggio Calabria", province: "RC", postalCode: "89121", cadastralCode: "H224"),
        Municipality(name: "Reggio Emilia", province: "RE", postalCode: "42121", cadastralCode: "H223"),
        Municipality(name: "Perugia", province: "PG", postalCode: "06121", cadastralCode: "G478"),
        Municipality(name: "Cagliari", province: "CA", postalCode: "09121", cadastralCode: "B354"),
        Municipality(name: "Pisa", province: "PI", postalCode: "56121", cadastralCode: "G702"),
        Municipality(name: "San Giuliano Terme", province: "PI", postalCode: "56017", cadastralCode: "A562"),
        Municipality(name: "Ancona", province: "AN", postalCode: "60121", cadastralCode: "A271"),
        Municipality(name: "Pescara", province: "PE", postalCode: "65121", cadastralCode: "G482"),
        Municipality(name: "Bergamo", province: "BG", postalCode: "24121", cadastralCode: "A794"),
        Municipality(name: "Trento", province: "TN", postalCode: "38122", cadastralCode: "L378"),
        Municipality(name: "Bolzano", province: "BZ", postalCode: "39100", cadastralCode: "A952"),
        Municipality(name: "Vicenza", province: "VI", postalCode: "36100", cadastralCode: "L840"),
        Municipality(name: "Taranto", province: "TA", postalCode: "74121", cadastralCode: "L049"),
        Municipality(name: "Livorno", province: "LI", postalCode: "57121", cadastralCode: "E625"),
        Municipality(name: "Ravenna", province: "RA", postalCode: "48121", cadastralCode: "H199"),
        Municipality(name: "Rimini", province: "RN", postalCode: "47921", cadastralCode: "H294"),
        Municipality(name: "Salerno", province: "SA", postalCode: "84121", cadastralCode: "H703"),
        Municipality(name: "Lecce", province: "LE", postalCode: "73100", cadastralCode: "E506"),
        Municipality(name: "Sassari", province: "SS", postalCode: "07100", cadastralCode: "I452"),
        Municipality(name: "Monza", province: "MB", postalCode: "20900", cadastralCode: "F704"),
        Municipality(name: "Udine", province: "UD", postalCode: "33100", cadastralCode: "L483"),
        Municipality(name: "Siena", province: "SI", postalCode: "53100", cadastralCode: "I726"),
        Municipality(name: "Aosta", province: "AO", postalCode: "11100", cadastralCode: "A326"),
        Municipality(name: "L'Aquila", province: "AQ", postalCode: "67100", cadastralCode: "A345"),
        Municipality(name: "Potenza", province: "PZ", postalCode: "85100", cadastralCode: "G942"),
        Municipality(name: "Campobasso", province: "CB", postalCode: "86100", cadastralCode: "B519"),
        Municipality(name: "Catanzaro", province: "CZ", postalCode: "88100", cadastralCode: "C352"),
        Municipality(name: "Como", province: "CO", postalCode: "22100", cadastralCode: "C933"),
        Municipality(name: "Lucca", province: "LU", postalCode: "55100", cadastralCode: "E715"),
        Municipality(name: "Sondrio", province: "SO", postalCode: "23100", cadastralCode: "I829"),
    ]

    public static let streetNames: [String] = [
        "Via Roma", "Corso Italia", "Piazza Garibaldi", "Via Garibaldi", "Via Giuseppe Mazzini",
        "Corso Vittorio Emanuele II", "Via Cavour", "Piazza del Duomo", "Via Dante Alighieri",
        "Via XX Settembre", "Via Nazionale", "Via Verdi", "Via Marconi", "Piazza della Repubblica",
        "Via IV Novembre", "Via Matteotti", "Viale dei Mille", "Via della Libertà", "Via Manzoni",
        "Via Alessandro Volta", "Via San Francesco", "Via Trieste", "Via Trento", "Via Milano",
        "Via Napoli", "Corso Umberto I", "Piazza Cavour", "Viale Europa", "Via Leopardi",
        "Via Aldo Moro", "Via Gramsci", "Via Carducci", "Via Pascoli", "Piazza San Marco",
        "Via del Corso", "Viale della Vittoria", "Via Fratelli Rosselli", "Via Galileo Galilei",
        "Via Colombo", "Via Petrarca", "Largo Augusto", "Via Vittorio Veneto",
    ]

    /// Stems for company names; combine with `legalForms`.
    public static let companyNameStems: [String] = [
        "Edil Costruzioni", "Tecno Impianti", "Alfa Servizi", "Nuova Meccanica", "Idrotermica",
        "Agricola del Sole", "Trasporti Veloci", "Informatica Adriatica", "Elettro Sistemi",
        "Ristorazione Toscana", "Tessile Lariana", "Ferramenta Centrale", "Studio Associato Verdi",
        "Officine Riunite", "Logistica Padana", "Ceramiche del Golfo", "Arredamenti Moderni",
        "Pulizie Brillanti", "Consulenze Aziendali", "Forniture Ufficio", "Autofficina Riva",
        "Panificio Bianchi", "Vini del Colle", "Olio Extra Puglia", "Marmi Apuani",
        "Cartotecnica Lombarda", "Energia Verde", "Sicurezza Lavoro", "Termoidraulica Rossi",
        "Grafica e Stampa", "Farmaceutica Meridionale", "Cantieri Navali Tirreno",
    ]

    /// Italian company legal forms.
    public static let legalForms: [String] = ["S.r.l.", "S.r.l.s.", "S.p.A.", "S.n.c.", "S.a.s.", "Soc. Coop."]

    /// Prefixes of local public bodies; append a municipality or province name.
    public static let publicBodyPrefixes: [String] = [
        "Comune di", "Provincia di", "Prefettura di", "Questura di", "Tribunale di",
        "Camera di Commercio di", "Istituto Comprensivo di", "Liceo Scientifico Statale di",
        "Azienda Sanitaria Locale di", "Università degli Studi di", "Azienda Ospedaliera di",
        "Ufficio Scolastico Provinciale di",
    ]

    /// National public administration bodies.
    public static let nationalPublicBodies: [String] = [
        "Agenzia delle Entrate", "INPS", "INAIL", "ISTAT", "Agenzia delle Dogane e dei Monopoli",
        "Ministero dell'Interno", "Ministero dell'Economia e delle Finanze", "Ministero della Salute",
        "Agenzia per l'Italia Digitale", "Automobile Club d'Italia", "Corte dei conti",
        "Agenzia del Demanio",
    ]

    /// Italian banks with their real ABI codes.
    public static let banks: [Bank] = [
        Bank(abi: "03069", name: "Intesa Sanpaolo"),
        Bank(abi: "02008", name: "UniCredit"),
        Bank(abi: "05034", name: "Banco BPM"),
        Bank(abi: "01030", name: "Banca Monte dei Paschi di Siena"),
        Bank(abi: "01005", name: "Banca Nazionale del Lavoro"),
        Bank(abi: "05387", name: "BPER Banca"),
        Bank(abi: "06230", name: "Crédit Agricole Italia"),
        Bank(abi: "03104", name: "Deutsche Bank"),
        Bank(abi: "05696", name: "Banca Popolare di Sondrio"),
        Bank(abi: "03032", name: "Credito Emiliano"),
        Bank(abi: "03015", name: "FinecoBank"),
        Bank(abi: "03268", name: "Banca Sella"),
        Bank(abi: "03062", name: "Banca Mediolanum"),
        Bank(abi: "03075", name: "Banca Generali"),
        Bank(abi: "07601", name: "Poste Italiane - BancoPosta"),
        Bank(abi: "03440", name: "Banco di Desio e della Brianza"),
        Bank(abi: "03205", name: "Banca Ifis"),
        Bank(abi: "05424", name: "Banca Popolare di Bari"),
        Bank(abi: "03124", name: "Banca del Fucino"),
        Bank(abi: "03048", name: "Banca del Piemonte"),
        Bank(abi: "05156", name: "Banca di Piacenza"),
        Bank(abi: "05116", name: "Banca Valsabbina"),
    ]
}
