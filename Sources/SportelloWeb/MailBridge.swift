import SportelloApplication
import SportelloMail

/// Transactional e-mail is rendered by `SportelloMail.MailTemplates` into outbox rows.
extension MailTemplates: MailComposer {}
