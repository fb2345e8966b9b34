import SportelloMail

extension MailTemplates: MailComposer {}
