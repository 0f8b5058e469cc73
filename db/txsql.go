package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"

	"github.com/jackc/pgx/v5"
)

// txDB returns a database/sql handle whose one connection is tx's session: every statement
// run through it runs in tx, and every transaction begun through it is a savepoint of tx
// (its commit releases the savepoint, its rollback rolls back to it). goose runs the
// migrations of a dry run through it, so that they roll back with the dry run. The handle
// must be closed; closing it leaves tx as it is.
func txDB(tx pgx.Tx) *sql.DB {
	db := sql.OpenDB(txConnector{tx: tx})
	db.SetMaxOpenConns(1) // one session: database/sql must never ask for a second
	return db
}

// txConnector hands database/sql its one connection, tx's session.
type txConnector struct{ tx pgx.Tx }

func (c txConnector) Connect(context.Context) (driver.Conn, error) { return &txConn{tx: c.tx}, nil }

func (c txConnector) Driver() driver.Driver { return txDriver{} }

// txDriver exists because a connector needs a driver; it opens nothing by name.
type txDriver struct{}

func (txDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("db: a transaction's connection is opened through its connector only")
}

// txConn is a database/sql connection on a transaction's session.
type txConn struct{ tx pgx.Tx }

var (
	_ driver.ExecerContext  = (*txConn)(nil)
	_ driver.QueryerContext = (*txConn)(nil)
	_ driver.ConnBeginTx    = (*txConn)(nil)
)

// errNoPrepare is returned for prepared statements, which no caller of txDB uses: statements
// go through ExecContext and QueryContext.
var errNoPrepare = errors.New("db: prepared statements are not supported on a transaction's connection")

func (c *txConn) Prepare(string) (driver.Stmt, error) { return nil, errNoPrepare }

// Close leaves the transaction to its owner.
func (c *txConn) Close() error { return nil }

func (c *txConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a savepoint of the transaction. Its options cannot change a transaction
// that has begun: a savepoint refuses any but the defaults.
func (c *txConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.Isolation != driver.IsolationLevel(sql.LevelDefault) || opts.ReadOnly {
		return nil, errors.New("db: a savepoint takes its transaction's isolation and access mode")
	}
	sp, err := c.tx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return txSavepoint{ctx: ctx, tx: sp}, nil
}

func (c *txConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	tag, err := c.tx.Exec(ctx, query, namedValues(args)...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *txConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.tx.Query(ctx, query, namedValues(args)...)
	if err != nil {
		return nil, err
	}
	return &txRows{rows: rows}, nil
}

// namedValues are the arguments of a statement, in order.
func namedValues(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

// txSavepoint is a savepoint that database/sql takes for a transaction.
type txSavepoint struct {
	ctx context.Context // BeginTx's: database/sql's Commit and Rollback take none
	tx  pgx.Tx
}

func (s txSavepoint) Commit() error   { return s.tx.Commit(s.ctx) }
func (s txSavepoint) Rollback() error { return s.tx.Rollback(s.ctx) }

// txRows are a query's rows, as database/sql reads them.
type txRows struct{ rows pgx.Rows }

func (r *txRows) Columns() []string {
	fds := r.rows.FieldDescriptions()
	out := make([]string, len(fds))
	for i, fd := range fds {
		out[i] = fd.Name
	}
	return out
}

func (r *txRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

func (r *txRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		switch x := v.(type) { // the integer and float types database/sql knows
		case int16:
			v = int64(x)
		case int32:
			v = int64(x)
		case float32:
			v = float64(x)
		}
		dest[i] = v
	}
	return nil
}
