package store

import (
	"strconv"
	"strings"
)

// dialect holds what differs between SQLite and PostgreSQL. Queries are
// written once, with ? placeholders, and rebound for PostgreSQL.
type dialect struct {
	name           string
	driver         string
	lockMigrations string
	rebind         func(string) string
}

var sqliteDialect = dialect{
	name: "sqlite", driver: "sqlite",
	lockMigrations: "SELECT 1", // transactions begin IMMEDIATE: the writer lock is held already
	rebind:         func(q string) string { return q },
}

var postgresDialect = dialect{
	name: "postgres", driver: "pgx",
	lockMigrations: "SELECT pg_advisory_xact_lock(7262447)", // any number, the same in every host
	rebind:         dollarPlaceholders,
}

// dollarPlaceholders turns ? into $1, $2, ... outside string literals.
func dollarPlaceholders(q string) string {
	var b strings.Builder
	n, quoted := 0, false
	for _, r := range q {
		switch {
		case r == '\'':
			quoted = !quoted
		case r == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
