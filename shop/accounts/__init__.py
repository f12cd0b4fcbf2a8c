"""People and practices: users and their roles, practices and their delivery addresses, login
sessions and passwords, registration with a licence, and the verification desk that checks it."""
