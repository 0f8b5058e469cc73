package engageclient

import (
	"encoding/json"

	"github.com/evsync/evsync/internal/secretjson"
)

// AccessTokenUserDetails is the Engage login (token exchange) response, every documented field
// of the AccessTokenUserDetails schema except the secrets: accessToken and refreshToken stay
// inside the client (they are never handed out), and Raw has every secret-bearing key
// (accessToken, refreshToken, password, phoneLoginPin, …) removed at any depth.
type AccessTokenUserDetails struct {
	TokenType            *string        // tokenType, "Bearer"
	MainAccountID        string         // mainAccountId
	AdminID              *int64         // adminId
	AdminURL             *string        // adminUrl
	AgentURL             *string        // agentUrl
	AnalyticsURL         *string        // analyticsUrl
	IQURL                *string        // iqUrl
	RedirectURL          *string        // redirectUrl
	AdminPasswordReset   *bool          // adminPasswordReset
	IsAdminPasswordReset *bool          // isAdminPasswordReset
	LoginHashcode        *string        // loginHashcode
	PlatformID           *string        // platformId
	Port                 *int64         // port
	SSOLogin             *bool          // ssoLogin
	RCUser               *Contact       // rcUser
	AgentDetails         []*AgentDetail // agentDetails
	Raw                  json.RawMessage
}

// Contact is the rcUser object of AccessTokenUserDetails.
type Contact struct {
	BusinessPhone    *string
	Company          *string
	Department       *string
	Email            *string
	EmailAsLoginName *bool
	FirstName        *string
	JobTitle         *string
	LastName         *string
	MobilePhone      *string
}

// AgentDetail is one AgentV2 item of AccessTokenUserDetails.AgentDetails (the caller's own
// agent records). The secret fields password and phoneLoginPin are not decoded.
type AgentDetail struct {
	AgentID                       int64
	AccountID                     *string
	AccountName                   *string
	AgentGroupID                  *int64
	AgentRank                     *int64
	AgentType                     *string
	AllowLoginControl             *bool
	AllowLoginUpdates             *bool
	AltDefaultLoginDest           *string
	DirectAgentExtension          *string
	Email                         *string
	EnableSoftphone               *bool
	ExternalAgentID               *string
	FirstName                     *string
	GhostRnaAction                *string
	InitLoginBaseState            *string
	LastName                      *string
	Location                      *string
	ManualOutboundDefaultCallerID *string
	MaxChats                      *int64
	RCUserID                      *int64
	Team                          *string
	Username                      *string
}

// loginResponse is the full wire form of the exchange/refresh response, secrets included.
type loginResponse struct {
	AccessToken          string             `json:"accessToken"`
	RefreshToken         string             `json:"refreshToken"`
	TokenType            nullStr            `json:"tokenType"`
	MainAccountID        nullID             `json:"mainAccountId"`
	AdminID              nullInt64          `json:"adminId"`
	AdminURL             nullStr            `json:"adminUrl"`
	AgentURL             nullStr            `json:"agentUrl"`
	AnalyticsURL         nullStr            `json:"analyticsUrl"`
	IQURL                nullStr            `json:"iqUrl"`
	RedirectURL          nullStr            `json:"redirectUrl"`
	AdminPasswordReset   nullBool           `json:"adminPasswordReset"`
	IsAdminPasswordReset nullBool           `json:"isAdminPasswordReset"`
	LoginHashcode        nullStr            `json:"loginHashcode"`
	PlatformID           nullID             `json:"platformId"`
	Port                 nullInt64          `json:"port"`
	SSOLogin             nullBool           `json:"ssoLogin"`
	RCUser               *contactWire       `json:"rcUser"`
	AgentDetails         []*agentDetailWire `json:"agentDetails"`
}

// contactWire is the wire form of the rcUser object.
type contactWire struct {
	BusinessPhone    nullStr  `json:"businessPhone"`
	Company          nullStr  `json:"company"`
	Department       nullStr  `json:"department"`
	Email            nullStr  `json:"email"`
	EmailAsLoginName nullBool `json:"emailAsLoginName"`
	FirstName        nullStr  `json:"firstName"`
	JobTitle         nullStr  `json:"jobTitle"`
	LastName         nullStr  `json:"lastName"`
	MobilePhone      nullStr  `json:"mobilePhone"`
}

// agentDetailWire is the wire form of one agentDetails item.
type agentDetailWire struct {
	AgentID                       nullInt64 `json:"agentId"`
	AccountID                     nullID    `json:"accountId"`
	AccountName                   nullStr   `json:"accountName"`
	AgentGroupID                  nullInt64 `json:"agentGroupId"`
	AgentRank                     nullInt64 `json:"agentRank"`
	AgentType                     nullStr   `json:"agentType"`
	AllowLoginControl             nullBool  `json:"allowLoginControl"`
	AllowLoginUpdates             nullBool  `json:"allowLoginUpdates"`
	AltDefaultLoginDest           nullStr   `json:"altDefaultLoginDest"`
	DirectAgentExtension          nullStr   `json:"directAgentExtension"`
	Email                         nullStr   `json:"email"`
	EnableSoftphone               nullBool  `json:"enableSoftphone"`
	ExternalAgentID               nullStr   `json:"externalAgentId"`
	FirstName                     nullStr   `json:"firstName"`
	GhostRnaAction                nullStr   `json:"ghostRnaAction"`
	InitLoginBaseState            nullStr   `json:"initLoginBaseState"`
	LastName                      nullStr   `json:"lastName"`
	Location                      nullStr   `json:"location"`
	ManualOutboundDefaultCallerID nullStr   `json:"manualOutboundDefaultCallerId"`
	MaxChats                      nullInt64 `json:"maxChats"`
	RCUserID                      nullInt64 `json:"rcUserId"`
	Team                          nullStr   `json:"team"`
	Username                      nullStr   `json:"username"`
}

// details converts the wire response into the public, secret-free form.
func (w *loginResponse) details(raw []byte) *AccessTokenUserDetails {
	d := &AccessTokenUserDetails{
		TokenType:            w.TokenType.Ptr(),
		MainAccountID:        w.MainAccountID.String,
		AdminID:              w.AdminID.Ptr(),
		AdminURL:             w.AdminURL.Ptr(),
		AgentURL:             w.AgentURL.Ptr(),
		AnalyticsURL:         w.AnalyticsURL.Ptr(),
		IQURL:                w.IQURL.Ptr(),
		RedirectURL:          w.RedirectURL.Ptr(),
		AdminPasswordReset:   w.AdminPasswordReset.Ptr(),
		IsAdminPasswordReset: w.IsAdminPasswordReset.Ptr(),
		LoginHashcode:        w.LoginHashcode.Ptr(),
		PlatformID:           w.PlatformID.Ptr(),
		Port:                 w.Port.Ptr(),
		SSOLogin:             w.SSOLogin.Ptr(),
		Raw:                  stripSecrets(raw),
	}
	if u := w.RCUser; u != nil {
		d.RCUser = u.contact()
	}
	for _, a := range w.AgentDetails {
		if a == nil {
			continue
		}
		d.AgentDetails = append(d.AgentDetails, a.agentDetail())
	}
	return d
}

// contact converts the wire rcUser into its public form.
func (u *contactWire) contact() *Contact {
	return &Contact{
		BusinessPhone:    u.BusinessPhone.Ptr(),
		Company:          u.Company.Ptr(),
		Department:       u.Department.Ptr(),
		Email:            u.Email.Ptr(),
		EmailAsLoginName: u.EmailAsLoginName.Ptr(),
		FirstName:        u.FirstName.Ptr(),
		JobTitle:         u.JobTitle.Ptr(),
		LastName:         u.LastName.Ptr(),
		MobilePhone:      u.MobilePhone.Ptr(),
	}
}

// agentDetail converts a wire agentDetails item into its public form.
func (a *agentDetailWire) agentDetail() *AgentDetail {
	return &AgentDetail{
		AgentID:                       a.AgentID.Int64,
		AccountID:                     a.AccountID.Ptr(),
		AccountName:                   a.AccountName.Ptr(),
		AgentGroupID:                  a.AgentGroupID.Ptr(),
		AgentRank:                     a.AgentRank.Ptr(),
		AgentType:                     a.AgentType.Ptr(),
		AllowLoginControl:             a.AllowLoginControl.Ptr(),
		AllowLoginUpdates:             a.AllowLoginUpdates.Ptr(),
		AltDefaultLoginDest:           a.AltDefaultLoginDest.Ptr(),
		DirectAgentExtension:          a.DirectAgentExtension.Ptr(),
		Email:                         a.Email.Ptr(),
		EnableSoftphone:               a.EnableSoftphone.Ptr(),
		ExternalAgentID:               a.ExternalAgentID.Ptr(),
		FirstName:                     a.FirstName.Ptr(),
		GhostRnaAction:                a.GhostRnaAction.Ptr(),
		InitLoginBaseState:            a.InitLoginBaseState.Ptr(),
		LastName:                      a.LastName.Ptr(),
		Location:                      a.Location.Ptr(),
		ManualOutboundDefaultCallerID: a.ManualOutboundDefaultCallerID.Ptr(),
		MaxChats:                      a.MaxChats.Ptr(),
		RCUserID:                      a.RCUserID.Ptr(),
		Team:                          a.Team.Ptr(),
		Username:                      a.Username.Ptr(),
	}
}

// rcTokenResponse is the RingCentral token endpoint response, every documented field.
type rcTokenResponse struct {
	AccessToken           string    `json:"access_token"`
	TokenType             string    `json:"token_type"`
	ExpiresIn             nullInt64 `json:"expires_in"`
	RefreshToken          string    `json:"refresh_token"`
	RefreshTokenExpiresIn nullInt64 `json:"refresh_token_expires_in"`
	Scope                 string    `json:"scope"`
	OwnerID               nullID    `json:"owner_id"`
	EndpointID            string    `json:"endpoint_id"`
	IDToken               string    `json:"id_token"`
	SessionID             string    `json:"session_id"`
	SessionExpiresIn      nullInt64 `json:"session_expires_in"`
	SessionExpirationTime nullStr   `json:"session_expiration_time"`
	SessionIdleTimeout    nullInt64 `json:"session_idle_timeout"`
}

// stripSecrets returns raw with every secret-bearing member (the rule of internal/secretjson,
// docs/schema.md) removed at any depth, compacted. A body that is not valid JSON gives nil.
func stripSecrets(raw []byte) json.RawMessage {
	out, err := secretjson.Scrub(raw)
	if err != nil {
		return nil
	}
	return out
}
