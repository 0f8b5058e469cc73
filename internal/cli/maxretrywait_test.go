package cli

import (
	"io"
	"testing"
	"time"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// engage.max_retry_wait reaches the client, defaults to the client's default, and must be a
// positive duration.
func TestEngageMaxRetryWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		want    time.Duration
		wantErr string
	}{
		{name: "default", yaml: "", want: engageclient.MaxRetryWaitDefault},
		{name: "set", yaml: "engage:\n  max_retry_wait: 30s\n", want: 30 * time.Second},
		{name: "zero", yaml: "engage:\n  max_retry_wait: 0s\n",
			wantErr: `config: engage.max_retry_wait: must be a positive duration like "2m", got "0s"`},
		{name: "negative", yaml: "engage:\n  max_retry_wait: -1m\n",
			wantErr: `config: engage.max_retry_wait: must be a positive duration like "2m", got "-1m0s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := configtest.Validated(t, tt.yaml, tt.wantErr)
			if !ok {
				return
			}
			if got := (&app{cfg: c, stderr: io.Discard}).runs().ClientConfig(c.TopLevelTenant()).MaxRetryWait; got != tt.want {
				t.Errorf("client MaxRetryWait = %s, want %s", got, tt.want)
			}
		})
	}
}
