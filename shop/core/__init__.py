"""What every part of the business shares: column types and the unit of work, event rows and
status changes, the outbox mailer, pricing, the PDF letterhead, paging, formatting and limits.
Nothing here imports a domain package."""
