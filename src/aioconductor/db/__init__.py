"""Database access: the async engine and nova's cell schema."""
