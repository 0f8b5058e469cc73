package tenant

import (
	"errors"
	"net/http"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
)

// Explain returns what to check for err, an error of a run of tenant t (multi: the config has
// a tenants list), naming the configuration key or the credential an API or network error
// points at: the RingCentral or Engage server URL for a host that did not answer, the JWT for
// a refused grant, the client id and secret for a refused client, the user's access for a
// refused exchange or listing. It returns "" when it knows nothing to add. The client reports
// which host and which step failed (engageclient.Step); only this package knows the keys.
func Explain(t config.Tenant, multi bool, err error) string {
	k := keysOf(t, multi)
	var (
		te *engageclient.TransportError
		ae *engageclient.AuthError
		pe *engageclient.APIError
	)
	switch {
	case errors.As(err, &te) && te.Step.RingCentral():
		return "RingCentral did not answer: check " + k.rcURL
	case errors.As(err, &te):
		return "Engage did not answer: check " + k.engageURL
	case errors.As(err, &ae):
		switch {
		case ae.Code == "invalid_grant":
			return "RingCentral refused the JWT: check " + k.jwt
		case ae.Code == "invalid_client" || ae.StatusCode == http.StatusUnauthorized:
			return "RingCentral refused the app's credentials: check " + k.client
		case ae.StatusCode == http.StatusForbidden || ae.Code == "unauthorized_client":
			return "RingCentral refused the JWT grant to this app: check that the app of " + k.clientID + " has the JWT auth flow and the ReadAccounts scope"
		}
	case errors.As(err, &pe) && pe.Step == engageclient.StepExchange:
		switch pe.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return "Engage refused the RingCentral token: check that the user of " + k.jwt + " has RingCX (Engage Voice) access, and " + k.engageURL
		case http.StatusNotFound:
			return "Engage has no token exchange there: check " + k.engageURL
		}
	case errors.As(err, &pe) && pe.Step == engageclient.StepAPI:
		if pe.StatusCode == http.StatusForbidden {
			return "Engage refused the listing: check the permissions of the user of " + k.jwt
		}
	}
	return ""
}

// keys are the names of the configuration keys and variables of one tenant's credentials and
// hosts, as a message names them.
type keys struct {
	rcURL, engageURL, jwt, client, clientID string
}

// keysOf returns the keys of tenant t: the top level's in a config without a tenants list,
// else the tenant's entry (which takes the top level's where it leaves a key out).
func keysOf(t config.Tenant, multi bool) keys {
	if !multi {
		return keys{
			rcURL:     "ringcentral.server_url (" + config.EnvRCServerURL + ")",
			engageURL: "engage.server_url (" + config.EnvEngageURL + ")",
			jwt:       "the JWT (" + config.EnvRCJWT + " or ringcentral.jwt_file)",
			client: "ringcentral.client_id (" + config.EnvRCClientID + ") and the client secret (" +
				config.EnvRCClientSecret + " or ringcentral.client_secret_file)",
			clientID: "ringcentral.client_id (" + config.EnvRCClientID + ")",
		}
	}
	entry := "tenant " + t.Name + "'s "
	return keys{
		rcURL:     entry + "ringcentral.server_url (else the top level's, " + config.EnvRCServerURL + ")",
		engageURL: entry + "engage.server_url (else the top level's, " + config.EnvEngageURL + ")",
		jwt:       "the JWT (" + config.TenantEnv(t.Name, "RC_JWT") + " or " + entry + "ringcentral.jwt_file)",
		client: entry + "ringcentral.client_id and the client secret (" + config.TenantEnv(t.Name, "RC_CLIENT_SECRET") +
			" or " + entry + "ringcentral.client_secret_file)",
		clientID: entry + "ringcentral.client_id",
	}
}
