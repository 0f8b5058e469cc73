package tenant

import (
	"errors"
	"net/http"

	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/config"
)

// Explain returns what to check for err, an error of a run of tenant t (multi: the config has
// a tenants list), naming the configuration key or the credential an API or network error
// points at: the RingCentral or Engage server URL for a host that did not answer or has no
// such endpoint, the JWT for a refused grant, the client id and secret for a refused client,
// the app's JWT flow for a grant refused to the app, the user's access for a refused exchange
// or listing. It returns "" when it knows nothing to add. The client reports which host and
// which step failed (engageclient.Step); only this package knows the keys. Both sync (the
// run's and each scope's recorded error) and check (the detail of a failed check) take their
// hint from here.
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
		return explainAuth(ae, k)
	case errors.As(err, &pe) && pe.Step == engageclient.StepExchange:
		switch pe.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return "Engage refused the RingCentral token: check that the user of " + k.jwt + " has RingCX (Engage Voice) access" +
				" (the user needs a linked RingCX account, on a production RingCentral account, and the app the ReadAccounts scope), and " + k.engageURL
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

// explainAuth is Explain for an answer of the RingCentral OAuth endpoints. The OAuth error
// code names the credential at fault, whatever status came with it: invalid_grant is the JWT
// assertion (even with a 401), invalid_client the app's client id or secret, and
// unauthorized_client an app that may not use the JWT grant (OAU-125, a 401). Only an answer
// without one of these codes falls back on its status.
func explainAuth(ae *engageclient.AuthError, k keys) string {
	const (
		jwt    = "RingCentral refused the JWT: check "
		client = "RingCentral refused the app's credentials: check "
		grant  = "RingCentral refused the JWT grant to this app: check that the app of "
	)
	switch {
	case ae.Code == "invalid_grant":
		return jwt + k.jwt + " (a JWT of this app's user, not expired)"
	case ae.Code == "invalid_client":
		return client + k.client
	case ae.Code == "unauthorized_client":
		return grant + k.clientID + " has the JWT auth flow and the ReadAccounts scope"
	case ae.StatusCode == http.StatusUnauthorized:
		return client + k.client
	case ae.StatusCode == http.StatusForbidden:
		return grant + k.clientID + " has the JWT auth flow and the ReadAccounts scope"
	case ae.StatusCode == http.StatusNotFound:
		return "RingCentral has no OAuth endpoint there: check " + k.rcURL
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
