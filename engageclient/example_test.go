package engageclient_test

import (
	"context"
	"fmt"
	"log"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/engageclient/engagefake"
)

// Example lists a tenant the way a sync run does: log in, list accounts, their agent groups and
// agents, then close the session (which revokes the RingCentral token).
func Example() {
	fake := engagefake.New(engagefake.Options{Seed: 1, Tenant: engagefake.TenantSpec{SubAccountsPerMain: 2, AgentGroupsPerSubAccount: 2, AgentsPerGroup: 3}})
	base := fake.Start()
	defer fake.Close()

	ctx := context.Background()
	c, err := engageclient.New(engageclient.Config{
		RCServerURL:       base,
		EngageServerURL:   base,
		ClientID:          engagefake.ClientIDDefault,
		ClientSecret:      engagefake.ClientSecretDefault,
		JWT:               engagefake.JWTDefault,
		RequestsPerMinute: 6000,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)

	login, err := c.Login(ctx)
	if err != nil {
		log.Fatal(err)
	}
	accounts, _, err := c.ListAccounts(ctx)
	if err != nil {
		log.Fatal(err)
	}
	agents := 0
	for _, a := range accounts {
		groups, _, err := c.ListAgentGroups(ctx, a.AccountID, nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, g := range groups {
			list, _, err := c.ListAgents(ctx, a.AccountID, g.AgentGroupID)
			if err != nil {
				log.Fatal(err)
			}
			agents += len(list)
		}
	}
	fmt.Println("main account:", login.MainAccountID == accounts[0].MainAccountID)
	fmt.Println("sub-accounts:", len(accounts), "agents:", agents)
	st := c.Stats()
	fmt.Println("grants:", st.Grants, "exchanges:", st.Exchanges, "requests:", st.Requests)
	// Output:
	// main account: true
	// sub-accounts: 2 agents: 12
	// grants: 1 exchanges: 1 requests: 7
}
