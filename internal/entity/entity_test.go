package entity_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/entity"
)

// TestExpandImplications: the implications of `--entities` as docs/configuration.md lists them.
func TestExpandImplications(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want []entity.Name
	}{
		{nil, entity.Names()},
		{[]entity.Name{entity.Agents}, []entity.Name{entity.AgentGroups, entity.Agents}},
		{[]entity.Name{entity.SubAccounts, entity.Users}, []entity.Name{entity.Accounts, entity.SubAccounts, entity.Users}},
		{[]entity.Name{entity.Users, entity.Users}, []entity.Name{entity.Users}},
		{[]entity.Name{entity.Queues}, []entity.Name{entity.QueueGroups, entity.Queues}},
		{[]entity.Name{entity.Skills}, []entity.Name{entity.QueueGroups, entity.Skills}},
		{[]entity.Name{entity.AgentQueues}, []entity.Name{entity.QueueGroups, entity.Queues, entity.AgentQueues}},
		{[]entity.Name{entity.Campaigns}, []entity.Name{entity.DialGroups, entity.Campaigns}},
		{[]entity.Name{entity.AgentDialGroups}, []entity.Name{entity.DialGroups, entity.AgentDialGroups}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, entity.Expand(tt.in)); diff != "" {
			t.Errorf("Expand(%v) (-want +got):\n%s", tt.in, diff)
		}
	}
	want := `unknown entity "gates" (expected one of accounts, sub_accounts, users, agent_groups, agents, ` +
		`queue_groups, queues, skills, dial_groups, campaigns, agent_queues, agent_dial_groups)`
	if _, err := entity.Parse("gates"); err == nil || err.Error() != want {
		t.Errorf("Parse(gates) = %v, want %s", err, want)
	}
}

// TestDescriptionsHold: every description can be staged and fetched: a key of a text part
// (first) and up to two bigint parts, a per-sub-account entity keyed by its sub-account, an
// entity's listing at or below the listings of what it implies, parents listed before children.
func TestDescriptionsHold(t *testing.T) {
	t.Parallel()
	for i, d := range entity.All() {
		if !isSentence(d.Doc) {
			t.Errorf("%s: Doc %q is not a sentence (the table's comment in the database)", d.Name, d.Doc)
		}
		if len(d.Key) == 0 || len(d.Key) > 3 {
			t.Errorf("%s: %d key columns", d.Name, len(d.Key))
		}
		for j, c := range d.Key {
			if (c.Kind == entity.Text) != (j == 0 && c.Kind == entity.Text) || (c.Kind != entity.Text && c.Kind != entity.Int) {
				t.Errorf("%s: key column %s of kind %v", d.Name, c.Name, c.Kind)
			}
		}
		if d.Scoped() && (d.Key[0].Name != "sub_account_id" || d.Listing.Depth() < 1) {
			t.Errorf("%s: scoped per sub-account without a sub-account key or a per-sub-account listing", d.Name)
		}
		if d.Listing == nil {
			t.Errorf("%s: no listing", d.Name)
			continue
		}
		for _, n := range d.Implies {
			p := entity.Of(n)
			if p == nil || p.Name.Order() >= i || !d.Listing.Under(p.Listing) {
				t.Errorf("%s implies %s: not an earlier entity of a listing at or above its own", d.Name, n)
			}
		}
		for _, c := range append(append([]entity.Column{}, d.Key...), d.Columns...) {
			if c.From == "" || c.Kind.SQL() == "unknown" {
				t.Errorf("%s.%s: no source or kind", d.Name, c.Name)
			}
			if !isSentence(c.Doc) {
				t.Errorf("%s.%s: Doc %q is not a sentence (the column's comment in the database)", d.Name, c.Name, c.Doc)
			}
		}
	}
}

// isSentence reports whether s reads as a sentence: a capital first, a full stop last.
func isSentence(s string) bool {
	return s != "" && strings.ToUpper(s[:1]) == s[:1] && strings.HasSuffix(s, ".")
}

// AsOf is the registry as each migration knew it: the first five entities since the first
// migration, the configuration entities since the fourth, and every entity at some version.
func TestAsOf(t *testing.T) {
	t.Parallel()
	names := func(ds []*entity.Desc) []entity.Name {
		var out []entity.Name
		for _, d := range ds {
			out = append(out, d.Name)
		}
		return out
	}
	first := []entity.Name{entity.Accounts, entity.SubAccounts, entity.Users, entity.AgentGroups, entity.Agents}
	fourth := append(first, entity.QueueGroups, entity.Queues, entity.Skills, entity.DialGroups, entity.Campaigns,
		entity.AgentQueues, entity.AgentDialGroups)
	tests := []struct {
		version int64
		want    []entity.Name
	}{
		{0, nil},
		{1, first},
		{3, first},
		{4, fourth},
		{5, fourth},
		{1 << 40, entity.Names()},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, names(entity.AsOf(tt.version))); diff != "" {
			t.Errorf("AsOf(%d) (-want +got):\n%s", tt.version, diff)
		}
	}
}
