/// E-mail for the portals.
///
/// - `MailTemplates` renders a tenant's branded message (`templates/<tenant>/mail/` over
///   `templates/default/mail/`) into an `OutboxRecord`, which the caller queues with `enqueueMail` in the
///   same transaction as the change it reports.
/// - `MailDeliveryWorker` sends the outbox through a `MailTransport` — `SMTPClient`, configured by
///   `SMTPConfiguration.fromEnvironment()` (`SPORTELLO_SMTP_URL`, `SPORTELLO_MAIL_FROM`) — retrying with
///   back-off until the relay accepts or refuses for good.
public enum SportelloMail {}
