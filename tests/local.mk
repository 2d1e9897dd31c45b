# tests: fixture generator and root checks (owner: fixtures)
