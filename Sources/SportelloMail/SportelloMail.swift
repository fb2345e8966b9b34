/// E-mail for the portals: templates, the SMTP client and the outbox delivery worker.
public enum SportelloMail {}
