import Foundation
import Hummingbird
import SportelloApplication
import SportelloCore
import SportelloStore

/// Tunda's knowledge base ("informazioni e consigli") and Unidata's online help: articles by category,
/// a word search and the article page, in the user's language (Italian when an article has no translation).
extension HostingController {
    static let helpOperations: [APIOperation] = [
        APIOperation("GET", Routes.helpArticles, summary: "Help articles in the user's language, by category; `q` searches titles and text (every word must match)",
                     feature: "knowledge_base.view", otherFeatures: ["help.view"],
                     parameters: [.init("q", description: "Words to look for"), .init("category", description: "Only this category")],
                     success: (200, "ArticleList")),
        APIOperation("GET", Routes.helpArticlesEntry, summary: "One help article with its paragraphs",
                     feature: "knowledge_base.view", otherFeatures: ["help.view"],
                     parameters: [.init("slug", in: "path", description: "The article's slug")], success: (200, "Article")),
    ]

    static let helpSchemas: [String: JSONSchema] = [
        "ArticleSummary": .object([
            "slug": .string(), "title": .string(), "summary": .nullable(.string()), "category": .string(),
            "updated_on": .string(format: "date"), "href": .string(),
        ], required: ["slug", "title", "category", "updated_on", "href"]),
        "ArticleList": .object([
            "articles": .array(.reference("ArticleSummary")), "categories": .array(.string()), "query": .nullable(.string()),
            "locale": .string(),
        ], required: ["articles", "categories", "locale"]),
        "Article": .object([
            "slug": .string(), "title": .string(), "summary": .nullable(.string()), "category": .string(),
            "updated_on": .string(format: "date"), "paragraphs": .array(.string()), "locale": .string(),
        ], required: ["slug", "title", "category", "updated_on", "paragraphs", "locale"]),
    ]

    struct ArticleSummaryView: Encodable { var slug, title: String; var summary: String?; var category, updatedOn, href: String }
    struct ArticleList: Encodable { var articles: [ArticleSummaryView]; var categories: [String]; var query: String?; var locale: String }
    struct ArticleView: Encodable { var slug, title: String; var summary: String?; var category, updatedOn: String; var paragraphs: [String]; var locale: String }

    func addHelpRoutes(to group: RouterGroup<UserContext>) {
        group.get(Routes.help) { request, context in try await helpPage(context: context, query: query(request, "q"), category: query(request, "category")) }
        group.get(Routes.helpArticle) { _, context in try await articlePage(context: context) }
        group.get(Routes.helpArticles.api) { request, context in
            let q = query(request, "q")?.trimmingCharacters(in: .whitespacesAndNewlines)
            let (all, locale) = try await articles(context)
            let found = search(all, query: q, category: query(request, "category"))
            return API.json(ArticleList(articles: found.map { summaryView($0) }, categories: categories(all), query: q?.nonEmpty, locale: locale))
        }
        group.get(Routes.helpArticlesEntry.api) { _, context in
            let article = try await article(context)
            return API.json(ArticleView(slug: article.slug, title: article.title, summary: article.summary, category: article.category,
                                        updatedOn: article.updatedOn, paragraphs: article.paragraphs, locale: article.locale))
        }
    }

    /// The collection of the tenant's help feature (`knowledge_base` or `help`).
    private func collection(_ context: UserContext) -> String {
        context.tenant.definition.feature("knowledge_base.view") != nil ? "knowledge_base" : "help"
    }

    /// The articles in the user's language, or in the tenant's default one when none are translated.
    func articles(_ context: UserContext) async throws -> ([ArticleRecord], String) {
        try context.require(page: Self.help)
        let collection = collection(context)
        let locale = context.locale
        let fallback = context.tenant.definition.locales.default
        return try await read(context) { transaction in
            let own = try await transaction.articles(collection: collection, locale: locale)
            if !own.isEmpty || locale == fallback { return (own, locale) }
            return (try await transaction.articles(collection: collection, locale: fallback), fallback)
        }
    }

    private func article(_ context: UserContext) async throws -> ArticleRecord {
        let slug = context.parameters.get("slug") ?? ""
        guard let found = try await articles(context).0.first(where: { $0.slug == slug }) else { throw PortalError.notFound }
        return found
    }

    private func categories(_ articles: [ArticleRecord]) -> [String] {
        var result: [String] = []
        for article in articles where !result.contains(article.category) { result.append(article.category) }
        return result
    }

    private func search(_ articles: [ArticleRecord], query: String?, category: String?) -> [ArticleRecord] {
        var found = articles
        if let category, !category.isEmpty { found = found.filter { $0.category == category } }
        guard let query, !ArticleRecord.words(query).isEmpty else { return found }
        return found.filter { $0.matches(query) }.enumerated()
            .sorted { ($0.element.score(query), -$0.offset) > ($1.element.score(query), -$1.offset) }.map(\.element)
    }

    private func summaryView(_ article: ArticleRecord) -> ArticleSummaryView {
        ArticleSummaryView(slug: article.slug, title: article.title, summary: article.summary, category: article.category,
                           updatedOn: article.updatedOn, href: Routes.helpArticlesEntry.api.path(article.slug))
    }

    private func helpTitle(_ context: UserContext) -> String {
        Feature.help.lazy.compactMap { context.tenant.definition.feature($0) != nil ? featureLabel($0, context) : nil }.first
            ?? string("hosting.help.title", context)
    }

    /// What the help page shows: the categories, and either every article by category or what a search found.
    struct HelpPage: Encodable {
        struct Category: Encodable { var name: String; var selected: Bool; var href: String }
        struct Article: Encodable { var slug, title, summary: String; var hasSummary: Bool; var updated: String }
        struct Group: Encodable { var name: String; var articles: [Article] }
        var query: String
        var searching: Bool
        var categories: [Category]
        var hasArticles: Bool
        var results: [Article]?
        var hasResults: Bool?
        var resultCount, categoryHeading: String?
        var groups: [Group]?
    }

    private func helpPage(context: UserContext, query: String?, category: String?) async throws -> Response {
        let (all, _) = try await articles(context)
        let q = query?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let chosen = category.flatMap { categories(all).contains($0) ? $0 : nil }
        let found = search(all, query: q, category: chosen)
        func row(_ article: ArticleRecord) -> HelpPage.Article {
            HelpPage.Article(slug: article.slug, title: article.title, summary: article.summary ?? "", hasSummary: article.summary != nil,
                             updated: Formatting.day(article.updatedOn))
        }
        let searching = !q.isEmpty || chosen != nil
        var model = HelpPage(
            query: q, searching: searching,
            categories: categories(all).map { name in
                // Everything but letters and digits encoded, as these links always were (`path(query:)` keeps `-._~`).
                let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name
                return HelpPage.Category(name: name, selected: name == chosen, href: "\(Routes.help.path())?category=\(encoded)")
            },
            hasArticles: !all.isEmpty)
        if searching {
            model.results = found.map(row)
            model.hasResults = !found.isEmpty
            model.resultCount = string(found.count == 1 ? "hosting.help.one_result" : "hosting.help.results", context, ["count": String(found.count)])
            model.categoryHeading = chosen
        } else {
            model.groups = categories(all).map { name in HelpPage.Group(name: name, articles: all.filter { $0.category == name }.map(row)) }
        }
        return Pages.render("hosting_help", model, title: helpTitle(context), context: context)
    }

    /// What an article's page shows beside its title.
    struct ArticlePage: Encodable {
        struct Related: Encodable { var slug, title: String }
        var helpTitle, category, summary: String
        var paragraphs: [String]
        var updated: String
        var related: [Related]
        var hasRelated: Bool
    }

    private func articlePage(context: UserContext) async throws -> Response {
        let article = try await article(context)
        let related = try await articles(context).0.filter { $0.category == article.category && $0.slug != article.slug }.prefix(4)
        let model = ArticlePage(helpTitle: helpTitle(context), category: article.category, summary: article.summary ?? "",
                                paragraphs: article.paragraphs, updated: Formatting.day(article.updatedOn),
                                related: related.map { .init(slug: $0.slug, title: $0.title) }, hasRelated: !related.isEmpty)
        return Pages.render("articles_detail", model, title: article.title, context: context)
    }
}
