"""SQLAlchemy plumbing: the declarative base, types, uids and sessions."""
