package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/oneline"
)

// healthcheckTimeoutDefault bounds the healthcheck's one request unless --timeout says otherwise.
const healthcheckTimeoutDefault = 5 * time.Second

func newHealthcheckCmd(a *app) *cobra.Command {
	var (
		target  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck [--url URL] [--timeout D]",
		Short: "ask a running daemon's /readyz; exit 0 when ready (for container healthchecks)",
		Long: "Sends one GET to the /readyz of the daemon on http.listen (the address made local:\n" +
			"\":9090\" is http://127.0.0.1:9090/readyz), or to --url. Exits 0 on 200, 1 otherwise\n" +
			"with a one-line reason, 2 on a usage or config error. For a container healthcheck:\n" +
			"the image has no shell and no curl.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usageErr("healthcheck: --timeout must be positive, got %s", timeout)
			}
			if target == "" {
				cfg, err := a.loadConfig()
				if err != nil {
					return err
				}
				if target, err = readyzURL(cfg.HTTP.Listen); err != nil {
					return &exitError{code: exitUsage, err: err}
				}
			} else if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return usageErr("healthcheck: --url: want an http:// or https:// URL, got %q", config.RedactURL(target))
			}
			return cmdHealthcheck(cmd.Context(), a.stdout, target, timeout)
		},
	}
	cmd.Flags().StringVar(&target, "url", "", "the `URL` to ask (default: /readyz on http.listen)")
	cmd.Flags().DurationVar(&timeout, "timeout", healthcheckTimeoutDefault, "how long to wait for the answer (a `DURATION`: 5s, 1m)")
	return cmd
}

// readyzURL is the URL of /readyz on the daemon listening on listen (http.listen), as seen
// from the same host: a wildcard or empty host becomes 127.0.0.1.
func readyzURL(listen string) (string, error) {
	if listen == "" {
		return "", errors.New(`healthcheck: http.listen is empty, so the daemon serves no /readyz: set http.listen (e.g. ":9090") or pass --url`)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("healthcheck: http.listen: want host:port, got %q", listen)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}

// cmdHealthcheck GETs target within timeout: nil on 200 (its first line on stdout), an error
// (exit 1) with a one-line reason otherwise.
func cmdHealthcheck(ctx context.Context, stdout io.Writer, target string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", redactURLError(err))
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", redactURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024)) // the reason, when there is one; a short read still has the status
	line := oneline.Of(strings.TrimSpace(string(body)), 200)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", config.RedactURL(target), resp.Status, line)
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}
	return nil
}

// redactURLError masks the URL a *url.Error names (the password and secret query parameters
// of --url, as config.RedactURL does): net/http strips the password but keeps the query.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = config.RedactURL(ue.URL)
	}
	return err
}
