package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// IsTransient reports whether err is a database failure that may pass if
// the same thing is tried again: the database did not answer or dropped
// the connection, was busy or locked, was shutting down, or aborted the
// transaction to break a deadlock. Anything else (a constraint violated,
// a statement the schema rejects, a value that does not decode) fails the
// same way every time, and is not transient.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return transientPostgres(pgErr.Code)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return transientSQLite(liteErr.Code())
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		pgconn.SafeToRetry(err) || isConnectError(err)
}

// transientPostgres is true for the SQLSTATE classes that say "not now"
// rather than "never": connection exceptions (08), serialization failures
// and deadlocks (40001, 40P01), insufficient resources (53), operator
// intervention such as a shutdown (57P), and lock timeouts (55P03).
func transientPostgres(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57P"):
		return true
	case code == "40001", code == "40P01", code == "55P03":
		return true
	}
	return false
}

// transientSQLite is true for SQLite's busy, locked, I/O, full-disk and
// cannot-open results (extended codes keep the primary one in the low byte).
func transientSQLite(code int) bool {
	switch code & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PROTOCOL:
		return true
	}
	return false
}

func isConnectError(err error) bool {
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr)
}
