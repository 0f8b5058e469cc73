package engageclient

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecodeDialGroup(t *testing.T) {
	t.Parallel()
	camp := `{"campaignId":880001,"campaignName":"Q1"}`
	tests := []decodeCase[DialGroup]{
		{name: "full", in: `{"dialGroupId":115001,"dialGroupName":"Renewals","dialGroupDesc":"Predictive","dialMode":"PREDICTIVE","isActive":true,"campaigns":[` + camp + `]}`,
			want: &DialGroup{DialGroupID: 115001, DialGroupName: ptr("Renewals"), DialGroupDesc: ptr("Predictive"), DialMode: ptr("PREDICTIVE"),
				IsActive: ptr(true), Campaigns: []*Campaign{{CampaignID: 880001, CampaignName: ptr("Q1")}}}},
		{name: "string id, isActive 0", in: `{"dialGroupId":"115002","isActive":0}`,
			want: &DialGroup{DialGroupID: 115002, IsActive: ptr(false), Campaigns: []*Campaign{}}},
		{name: "isActive 1", in: `{"dialGroupId":1,"isActive":1}`, want: &DialGroup{DialGroupID: 1, IsActive: ptr(true), Campaigns: []*Campaign{}}},
		{name: "nulls", in: `{"dialGroupId":1,"dialGroupName":null,"dialGroupDesc":null,"dialMode":null,"isActive":null,"campaigns":null}`,
			want: &DialGroup{DialGroupID: 1, Campaigns: []*Campaign{}}},
		{name: "empty campaigns", in: `{"dialGroupId":1,"campaigns":[]}`, want: &DialGroup{DialGroupID: 1, Campaigns: []*Campaign{}}},
		{name: "null campaign skipped", in: `{"dialGroupId":1,"campaigns":[null,` + camp + `]}`,
			want: &DialGroup{DialGroupID: 1, Campaigns: []*Campaign{{CampaignID: 880001, CampaignName: ptr("Q1")}}}},
		{name: "bad campaigns left out", in: `{"dialGroupId":1,"campaigns":[` + camp + `,{"campaignName":"no id"},{"campaignId":2,"startDate":"x","campaignName":[1]}]}`,
			want:      &DialGroup{DialGroupID: 1, Campaigns: []*Campaign{{CampaignID: 880001, CampaignName: ptr("Q1")}}},
			wantChild: []string{"campaigns[1]: campaignId is missing", "campaigns[2]: campaignName: parsing string: got a JSON array"}},
		// The spec's CollectionCampaign is an object schema without properties; no source shows
		// one sent as an object, so an object is reported, and the group kept.
		{name: "campaigns an object", in: `{"dialGroupId":1,"campaigns":{}}`,
			want: &DialGroup{DialGroupID: 1, Campaigns: []*Campaign{}}, wantChild: []string{"campaigns: expected a JSON array, got an object"}},
		{name: "missing id", in: `{"dialGroupName":"x","campaigns":[` + camp + `]}`, wantErr: "dialGroupId is missing"},
		{name: "bad id", in: `{"dialGroupId":true}`, wantErr: "dialGroupId: parsing integer"},
		{name: "bad isActive", in: `{"dialGroupId":1,"isActive":"on"}`, wantErr: "isActive: parsing boolean"},
		{name: "not an object", in: `7`, wantErr: "expected a JSON object (dial group), got a number"},
	}
	runDecodeCases(t, tests, func(g *DialGroup) json.RawMessage { return g.Raw })
}

func TestDecodeCampaign(t *testing.T) {
	t.Parallel()
	tests := []decodeCase[Campaign]{
		{name: "full", in: `{"campaignId":880001,"campaignName":"Q1","campaignDesc":"First","isActive":1,"startDate":` + dateEngage + `,"endDate":` + dateMinus0 + `}`,
			want: &Campaign{CampaignID: 880001, CampaignName: ptr("Q1"), CampaignDesc: ptr("First"), IsActive: ptr(true),
				StartDate: mustTime(t, wantEngage), EndDate: mustTime(t, wantMinus0)}},
		{name: "string id", in: `{"campaignId":"880002"}`, want: &Campaign{CampaignID: 880002}},
		{name: "rfc3339 and joda dates", in: `{"campaignId":1,"startDate":` + dateRFC3339 + `,"endDate":` + dateJoda + `}`,
			want: &Campaign{CampaignID: 1, StartDate: mustTime(t, wantRFC3339), EndDate: mustTime(t, wantJodaTime)}},
		{name: "null and empty dates", in: `{"campaignId":1,"startDate":null,"endDate":""}`, want: &Campaign{CampaignID: 1}},
		{name: "nulls", in: `{"campaignId":1,"campaignName":null,"campaignDesc":null,"isActive":null}`, want: &Campaign{CampaignID: 1}},
		// isActive is an integer in the spec (0/1), a boolean elsewhere: both read, and anything
		// else is no value (the Raw keeps it), never a reason to fail the campaign.
		{name: "isActive 0", in: `{"campaignId":1,"isActive":0}`, want: &Campaign{CampaignID: 1, IsActive: ptr(false)}},
		{name: "isActive 1", in: `{"campaignId":1,"isActive":1}`, want: &Campaign{CampaignID: 1, IsActive: ptr(true)}},
		{name: "isActive string 0", in: `{"campaignId":1,"isActive":"0"}`, want: &Campaign{CampaignID: 1, IsActive: ptr(false)}},
		{name: "isActive string 1", in: `{"campaignId":1,"isActive":"1"}`, want: &Campaign{CampaignID: 1, IsActive: ptr(true)}},
		{name: "isActive true", in: `{"campaignId":1,"isActive":true}`, want: &Campaign{CampaignID: 1, IsActive: ptr(true)}},
		{name: "isActive false", in: `{"campaignId":1,"isActive":false}`, want: &Campaign{CampaignID: 1, IsActive: ptr(false)}},
		{name: "isActive 2", in: `{"campaignId":1,"isActive":2}`, want: &Campaign{CampaignID: 1}},
		{name: "isActive -1", in: `{"campaignId":1,"isActive":-1}`, want: &Campaign{CampaignID: 1}},
		{name: "isActive word", in: `{"campaignId":1,"isActive":"paused"}`, want: &Campaign{CampaignID: 1}},
		{name: "isActive object", in: `{"campaignId":1,"isActive":{"v":1}}`, want: &Campaign{CampaignID: 1}},
		{name: "isActive empty", in: `{"campaignId":1,"isActive":""}`, want: &Campaign{CampaignID: 1}},
		{name: "missing id", in: `{"campaignName":"x"}`, wantErr: "campaignId is missing"},
		{name: "bad id", in: `{"campaignId":"c1"}`, wantErr: "campaignId: parsing integer"},
		{name: "not an object", in: `[]`, wantErr: "expected a JSON object (campaign), got an array"},
	}
	runDecodeCases(t, tests, func(c *Campaign) json.RawMessage { return c.Raw })
}

func TestDecodeDialGroupsFixture(t *testing.T) {
	t.Parallel()
	got, _, err := decodeList[DialGroup](readTestdata(t, "dial_groups.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []*DialGroup{
		{DialGroupID: 115001, DialGroupName: ptr("Renewals - Predictive"), DialGroupDesc: ptr("Predictive renewals"),
			DialMode: ptr("PREDICTIVE"), IsActive: ptr(true), Campaigns: []*Campaign{
				{CampaignID: 880001, CampaignName: ptr("Q1 renewals"), IsActive: ptr(true),
					StartDate: mustTime(t, "2024-01-01T00:00:00Z"), EndDate: mustTime(t, "2024-03-31T23:59:59Z")},
				{CampaignID: 880002, CampaignName: ptr("Q2 renewals"), IsActive: ptr(false), StartDate: mustTime(t, "2024-04-01T00:00:00Z")},
			}},
		{DialGroupID: 115002, DialGroupName: ptr("Preview"), DialMode: ptr("PREVIEW"), IsActive: ptr(false), Campaigns: []*Campaign{}},
		{DialGroupID: 115003, DialGroupName: ptr("Manual"), DialGroupDesc: ptr(""), IsActive: ptr(true), Campaigns: []*Campaign{}},
	}
	if diff := cmp.Diff(want, got, ignoreConfigRaw); diff != "" {
		t.Fatalf("dial groups (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(got[0].Raw), `"campaignName": "Q2 renewals"`) || !strings.Contains(string(got[0].Raw), `"hciEnabled": "DISABLED"`) {
		t.Errorf("group Raw is not the object as received: %s", got[0].Raw)
	}
	if c := string(got[0].Campaigns[0].Raw); !strings.Contains(c, `"campaignPriority": 5`) || strings.Contains(c, "880002") {
		t.Errorf("campaign Raw is not the campaign as received: %s", c)
	}
}

// A campaign that cannot be decoded is reported against its dial group, which is returned.
func TestDecodeDialGroupsChildErrors(t *testing.T) {
	t.Parallel()
	body := `[{"dialGroupId":1,"campaigns":[{"campaignId":11}]},{"dialGroupId":2,"campaigns":[{"campaignId":21},{"campaignId":"x"}]}]`
	got, _, err := decodeList[DialGroup]([]byte(body))
	var ie *ItemsError
	if !errors.As(err, &ie) || len(ie.Items) != 1 || ie.Items[0].Index != 1 || ie.Items[0].Child != "campaigns[1]" {
		t.Fatalf("err = %v, want an *ItemsError for item 1's campaigns[1]", err)
	}
	if want := "item 1: campaigns[1]: campaignId: parsing integer (1 bytes): not a number"; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if len(got) != 2 || len(got[1].Campaigns) != 1 || got[1].Campaigns[0].CampaignID != 21 {
		t.Errorf("got %+v, want both groups, the second with campaign 21 only", got)
	}
}
