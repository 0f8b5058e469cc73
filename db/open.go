package db

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Session defaults that Open applies unless the URL sets them.
const (
	// ApplicationNameDefault is the application_name Open sets unless the URL names one.
	ApplicationNameDefault = "evsync"
	// StatementTimeoutDefault is the statement_timeout Open sets unless the URL sets one.
	// Publishing a very large tenant runs a handful of set-based statements; each stays well
	// under this.
	StatementTimeoutDefault = "5min"
	// IdleInTxTimeoutDefault is the idle_in_transaction_session_timeout Open sets unless the
	// URL sets one.
	IdleInTxTimeoutDefault = "60s"
)

// ConnectTimeoutDefault bounds each new connection (TCP, TLS and startup) unless the URL sets
// connect_timeout: a server that accepts connections and never answers fails the connection,
// not just the caller's context.
const ConnectTimeoutDefault = 10 * time.Second

// OpenOption tunes the pool Open returns.
type OpenOption func(*pgxpool.Config)

// WithMaxConns bounds the pool's connections to n unless the URL sets pool_max_conns. One
// process's pool serves all its tenants: size it by the runs in flight, not by the tenants.
func WithMaxConns(n int32) OpenOption {
	return func(c *pgxpool.Config) {
		if n > 0 && !strings.Contains(c.ConnString(), "pool_max_conns") {
			c.MaxConns = n
		}
	}
}

// Open returns a pgx pool for url. It sets application_name (default "evsync"),
// statement_timeout, idle_in_transaction_session_timeout and connect_timeout unless the URL
// sets them, and checks that the server answers.
func Open(ctx context.Context, url string, opts ...OpenOption) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's parse errors can echo the URL (and its password): keep them out.
		return nil, fmt.Errorf("parsing database url: invalid connection string")
	}
	for _, o := range opts {
		o(cfg)
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = cmp.Or(rp["application_name"], ApplicationNameDefault)
	rp["statement_timeout"] = cmp.Or(rp["statement_timeout"], StatementTimeoutDefault)
	rp["idle_in_transaction_session_timeout"] = cmp.Or(rp["idle_in_transaction_session_timeout"], IdleInTxTimeoutDefault)
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = ConnectTimeoutDefault
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("opening database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to database %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}
