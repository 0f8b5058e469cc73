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
	AccessToken          string `json:"accessToken"`
	RefreshToken         string `json:"refreshToken"`
	TokenType            Str    `json:"tokenType"`
	MainAccountID        ID     `json:"mainAccountId"`
	AdminID              Int64  `json:"adminId"`
	AdminURL             Str    `json:"adminUrl"`
	AgentURL             Str    `json:"agentUrl"`
	AnalyticsURL         Str    `json:"analyticsUrl"`
	IQURL                Str    `json:"iqUrl"`
	RedirectURL          Str    `json:"redirectUrl"`
	AdminPasswordReset   Bool   `json:"adminPasswordReset"`
	IsAdminPasswordReset Bool   `json:"isAdminPasswordReset"`
	LoginHashcode        Str    `json:"loginHashcode"`
	PlatformID           ID     `json:"platformId"`
	Port                 Int64  `json:"port"`
	SSOLogin             Bool   `json:"ssoLogin"`
	RCUser               *struct {
		BusinessPhone    Str  `json:"businessPhone"`
		Company          Str  `json:"company"`
		Department       Str  `json:"department"`
		Email            Str  `json:"email"`
		EmailAsLoginName Bool `json:"emailAsLoginName"`
		FirstName        Str  `json:"firstName"`
		JobTitle         Str  `json:"jobTitle"`
		LastName         Str  `json:"lastName"`
		MobilePhone      Str  `json:"mobilePhone"`
	} `json:"rcUser"`
	AgentDetails []*struct {
		AgentID                       Int64 `json:"agentId"`
		AccountID                     ID    `json:"accountId"`
		AccountName                   Str   `json:"accountName"`
		AgentGroupID                  Int64 `json:"agentGroupId"`
		AgentRank                     Int64 `json:"agentRank"`
		AgentType                     Str   `json:"agentType"`
		AllowLoginControl             Bool  `json:"allowLoginControl"`
		AllowLoginUpdates             Bool  `json:"allowLoginUpdates"`
		AltDefaultLoginDest           Str   `json:"altDefaultLoginDest"`
		DirectAgentExtension          Str   `json:"directAgentExtension"`
		Email                         Str   `json:"email"`
		EnableSoftphone               Bool  `json:"enableSoftphone"`
		ExternalAgentID               Str   `json:"externalAgentId"`
		FirstName                     Str   `json:"firstName"`
		GhostRnaAction                Str   `json:"ghostRnaAction"`
		InitLoginBaseState            Str   `json:"initLoginBaseState"`
		LastName                      Str   `json:"lastName"`
		Location                      Str   `json:"location"`
		ManualOutboundDefaultCallerID Str   `json:"manualOutboundDefaultCallerId"`
		MaxChats                      Int64 `json:"maxChats"`
		RCUserID                      Int64 `json:"rcUserId"`
		Team                          Str   `json:"team"`
		Username                      Str   `json:"username"`
	} `json:"agentDetails"`
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
		Raw:                  StripSecrets(raw),
	}
	if u := w.RCUser; u != nil {
		d.RCUser = &Contact{
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
	for _, a := range w.AgentDetails {
		if a == nil {
			continue
		}
		d.AgentDetails = append(d.AgentDetails, &AgentDetail{
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
		})
	}
	return d
}

// rcTokenResponse is the RingCentral token endpoint response, every documented field.
type rcTokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             Int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn Int64  `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
	OwnerID               ID     `json:"owner_id"`
	EndpointID            string `json:"endpoint_id"`
	IDToken               string `json:"id_token"`
	SessionID             string `json:"session_id"`
	SessionExpiresIn      Int64  `json:"session_expires_in"`
	SessionExpirationTime Str    `json:"session_expiration_time"`
	SessionIdleTimeout    Int64  `json:"session_idle_timeout"`
}

// IsSecretKey reports whether a JSON key names a secret-bearing field when its value is a
// string: split into words, its last word is password, passwd, pwd, pass, secret, token(s), pin
// or credential(s), or its last two are api/private/security/access/secret key or pin code
// (DESIGN.md). A boolean value is never a secret and pass names one only for a string value:
// StripSecrets applies the whole rule.
func IsSecretKey(k string) bool { return secretjson.IsSecretKey(k) }

// StripSecrets returns raw with every secret-bearing member (IsSecretKey, with its value) removed at any depth,
// compacted. A body that is not valid JSON gives nil.
func StripSecrets(raw []byte) json.RawMessage {
	out, err := secretjson.Scrub(raw)
	if err != nil {
		return nil
	}
	return out
}
