package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// AuditDateLayout is how SearchAuditLogs writes a window's bounds: ISO-8601 with milliseconds
// and an explicit numeric offset ("2026-12-01T03:00:00.000+00:00"), since the API refuses the
// "Z" suffix (a numeric layout writes UTC as +00:00, never Z).
const AuditDateLayout = "2006-01-02T15:04:05.000-07:00"

// Audit log sort orders (AuditLogSearch.Order).
const (
	AuditAscending  = "ASCENDING"
	AuditDescending = "DESCENDING"
)

// AuditLogSearch selects the audit log entries of one sub-account created in [Start, End).
type AuditLogSearch struct {
	AccountID string    // the sub-account (accountId), required
	Start     time.Time // startDateTime, required
	End       time.Time // endDateTime, required, after Start
	// Actions narrows the search to these actions (auditActions: CREATE, UPDATE, DELETE);
	// nil for every action.
	Actions []string
	// Order is ascOrDesc, AuditAscending (the default) or AuditDescending.
	Order string
}

// auditSearchBody is the AuditLogSearchCriteria request object.
type auditSearchBody struct {
	AccountID     string   `json:"accountId"`
	StartDateTime string   `json:"startDateTime"`
	EndDateTime   string   `json:"endDateTime"`
	AuditActions  []string `json:"auditActions,omitempty"`
	AscOrDesc     string   `json:"ascOrDesc"`
}

// SearchAuditLogs returns the admin audit log entries of one sub-account created in the window
// s names: PUT /voice/api/v1/admin/auditLogs/search, a JSON body with accountId,
// startDateTime and endDateTime (written in the bounds' own offsets with AuditDateLayout) and
// ascOrDesc. The answer is a bare array (no paging is documented). The user needs the "Audit
// log access" permission: without it the API answers 403 (an *APIError). The call is paced by
// the admin limiter, like the listings. When some entries cannot be decoded, the others are
// returned with an error matching *ItemsError.
func (c *Client) SearchAuditLogs(ctx context.Context, s *AuditLogSearch) ([]*AuditLog, *Response, error) {
	if err := s.check(); err != nil {
		return nil, nil, fmt.Errorf("searching audit logs: %w", err)
	}
	body, err := json.Marshal(auditSearchBody{
		AccountID:     s.AccountID,
		StartDateTime: s.Start.Format(AuditDateLayout),
		EndDateTime:   s.End.Format(AuditDateLayout),
		AuditActions:  s.Actions,
		AscOrDesc:     s.order(),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("searching audit logs: %w", err)
	}
	r := &request{method: http.MethodPut, url: newURL(c.engageBase, "voice/api/v1/admin/auditLogs/search", nil), json: body}
	items, _, resp, err := listPage[AuditLog](ctx, c, r)
	if err != nil {
		return items, resp, fmt.Errorf("searching audit logs of sub-account %s: %w", s.AccountID, err)
	}
	return items, resp, nil
}

// check rejects a search the API would refuse, before sending it.
func (s *AuditLogSearch) check() error {
	if s == nil {
		return errors.New("no search criteria")
	}
	if err := checkSubAccountID(s.AccountID); err != nil {
		return err
	}
	if s.Start.IsZero() || s.End.IsZero() || !s.End.After(s.Start) {
		return fmt.Errorf("invalid window [%s, %s): expected two times, the end after the start",
			s.Start.Format(AuditDateLayout), s.End.Format(AuditDateLayout))
	}
	if o := s.order(); o != AuditAscending && o != AuditDescending {
		return fmt.Errorf("invalid order %q: expected %s or %s", o, AuditAscending, AuditDescending)
	}
	return nil
}

func (s *AuditLogSearch) order() string {
	if s.Order == "" {
		return AuditAscending
	}
	return s.Order
}

// AuditLog is one entry of the audit log search: one change an admin made. Unknown fields are
// kept in Raw.
type AuditLog struct {
	ID                       string           // id (a UUID), required
	AccountID                *string          // accountId (the sub-account)
	ActionType               *string          // actionType: CREATE, UPDATE, DELETE
	AuditedClass             *string          // auditedClass, a Java class name ("com.connectfirst....acd.Gate")
	AuditedEntityID          *string          // auditedEntityId
	AuditedEntityDescription *string          // auditedEntityDescription
	CreateTime               *time.Time       // createTime (epoch milliseconds), in UTC
	AuthUser                 *AuditUser       // authUser: who made the change
	Changes                  []AuditLogChange // auditLogResultList (an UPDATE's attributes)
	AffectedEntity           json.RawMessage  // affectedEntityJson (CREATE/DELETE), as sent; nil when null or absent
	Raw                      json.RawMessage  // the entry as received
}

// AuditUser is the authUser object of an AuditLog.
type AuditUser struct {
	UserID            *string // userId
	UserName          *string // userName
	FirstName         *string // firstName
	LastName          *string // lastName
	SourceID          *string // sourceId (the client's IP address)
	SimulatedByUserID *string // simulatedByUserId
}

// AuditLogChange is one attribute an UPDATE changed (an auditLogResultList item). The values
// are kept as sent (the sample sends strings, the spec types them objects); nil when null or
// absent.
type AuditLogChange struct {
	AttributeName string          // attributeName
	OriginalValue json.RawMessage // originalValue
	NewValue      json.RawMessage // newValue
	ClassType     *string         // classType
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (a *AuditLog) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                       nullID    `json:"id"`
		AccountID                nullID    `json:"accountId"`
		ActionType               nullStr   `json:"actionType"`
		AuditedClass             nullStr   `json:"auditedClass"`
		AuditedEntityID          looseStr  `json:"auditedEntityId"`
		AuditedEntityDescription looseStr  `json:"auditedEntityDescription"`
		CreateTime               nullInt64 `json:"createTime"`
		AuthUser                 *struct {
			UserID            nullID  `json:"userId"`
			UserName          nullStr `json:"userName"`
			FirstName         nullStr `json:"firstName"`
			LastName          nullStr `json:"lastName"`
			SourceID          nullStr `json:"sourceId"`
			SimulatedByUserID nullID  `json:"simulatedByUserId"`
		} `json:"authUser"`
		Results []struct {
			AttributeName nullStr         `json:"attributeName"`
			OriginalValue json.RawMessage `json:"originalValue"`
			NewValue      json.RawMessage `json:"newValue"`
			ClassType     nullStr         `json:"classType"`
		} `json:"auditLogResultList"`
		AffectedEntity json.RawMessage `json:"affectedEntityJson"`
	}
	if err := unmarshalObject(b, &w, "audit log entry"); err != nil {
		return err
	}
	if !w.ID.Valid || w.ID.String == "" {
		return errors.New("id is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*a = AuditLog{
		ID:                       w.ID.String,
		AccountID:                w.AccountID.Ptr(),
		ActionType:               w.ActionType.Ptr(),
		AuditedClass:             w.AuditedClass.Ptr(),
		AuditedEntityID:          w.AuditedEntityID.Ptr(),
		AuditedEntityDescription: w.AuditedEntityDescription.Ptr(),
		Raw:                      raw,
	}
	if w.CreateTime.Valid {
		t := time.UnixMilli(w.CreateTime.Int64).UTC()
		a.CreateTime = &t
	}
	if u := w.AuthUser; u != nil {
		a.AuthUser = &AuditUser{UserID: u.UserID.Ptr(), UserName: u.UserName.Ptr(), FirstName: u.FirstName.Ptr(),
			LastName: u.LastName.Ptr(), SourceID: u.SourceID.Ptr(), SimulatedByUserID: u.SimulatedByUserID.Ptr()}
	}
	for _, r := range w.Results {
		a.Changes = append(a.Changes, AuditLogChange{AttributeName: r.AttributeName.String,
			OriginalValue: rawValue(r.OriginalValue), NewValue: rawValue(r.NewValue), ClassType: r.ClassType.Ptr()})
	}
	a.AffectedEntity = rawValue(w.AffectedEntity)
	return nil
}

// rawValue is a copy of the JSON value v, or nil when it is null or absent.
func rawValue(v json.RawMessage) json.RawMessage {
	if len(v) == 0 || string(v) == "null" {
		return nil
	}
	return json.RawMessage(append([]byte(nil), v...))
}

// looseStr is a nullStr that never fails on valid JSON: a string, number or boolean is read as
// its text, anything else (an object, an array) gives Valid == false, the item's Raw keeping
// what was sent. For fields whose documents disagree on the type (the audit log's spec types
// auditedEntityId an object, its sample sends a string).
type looseStr struct{ nullStr }

// UnmarshalJSON implements json.Unmarshaler.
func (v *looseStr) UnmarshalJSON(b []byte) error {
	if err := v.nullStr.UnmarshalJSON(b); err != nil {
		v.nullStr = nullStr{}
	}
	return nil
}
