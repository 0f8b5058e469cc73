package cli

import (
	"io"
	"testing"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// engage.max_listing_rows reaches each tenant's client, defaults to the client's default
// (1,000,000), is inherited by tenants like the other engage keys, and must be positive.
func TestConfigEngageMaxListingRows(t *testing.T) {
	t.Parallel()
	tenants := "ringcentral:\n  client_id: app\ntenants:\n  - name: acme\n  - name: globex\n    engage: {max_listing_rows: 7}\n"
	tests := []struct {
		name    string
		yaml    string
		want    []int // per tenant
		wantErr string
	}{
		{name: "default", yaml: "", want: []int{engageclient.MaxListingRowsDefault}},
		{name: "set", yaml: "engage:\n  max_listing_rows: 5000\n", want: []int{5000}},
		{name: "tenants inherit and override", yaml: "engage:\n  max_listing_rows: 5000\n" + tenants, want: []int{5000, 7}},
		{name: "tenants inherit the default", yaml: tenants, want: []int{engageclient.MaxListingRowsDefault, 7}},
		{name: "zero", yaml: "engage:\n  max_listing_rows: 0\n",
			wantErr: `config: engage.max_listing_rows: must be a positive integer, got 0`},
		{name: "negative", yaml: "engage:\n  max_listing_rows: -1\n",
			wantErr: `config: engage.max_listing_rows: must be a positive integer, got -1`},
		{name: "a tenant's, negative", yaml: "ringcentral:\n  client_id: app\ntenants:\n  - name: acme\n    engage: {max_listing_rows: -5}\n",
			wantErr: `config: tenants[0].engage.max_listing_rows: must be a positive integer, got -5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ok := configtest.Validated(t, tt.yaml, tt.wantErr)
			if !ok {
				return
			}
			ts := c.Tenants()
			if len(ts) != len(tt.want) {
				t.Fatalf("%d tenants, want %d", len(ts), len(tt.want))
			}
			for i, tn := range ts {
				if got := (&app{cfg: c, stderr: io.Discard}).runs().ClientConfig(tn).MaxListingRows; got != tt.want[i] {
					t.Errorf("tenant %s: client MaxListingRows = %d, want %d", tn.Name, got, tt.want[i])
				}
			}
		})
	}
}
