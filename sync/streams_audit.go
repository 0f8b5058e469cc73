package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/secretjson"
)

// The audit_log stream: one search of a sub-account's audit log per window, through the admin
// limiter, each entry a row keyed by its id.

// readAuditLog reads the audit log entries of one window (ascending, offset dates: the client
// writes them so). An entry that cannot be decoded fails the window: a row without its id
// cannot be keyed, and a window is published whole or not at all.
func readAuditLog(ctx context.Context, c StreamClient, rd *windowRead) (iter.Seq2[db.StreamRow, error], error) {
	items, _, err := c.SearchAuditLogs(ctx, &engageclient.AuditLogSearch{
		AccountID: rd.subAccountID, Start: rd.span.Start, End: rd.span.End, Order: engageclient.AuditAscending,
	})
	if err != nil {
		return nil, err
	}
	rows := make([]db.StreamRow, 0, len(items))
	for _, a := range items {
		row, err := auditRow(a, rd.redact)
		if err != nil {
			return nil, fmt.Errorf("audit log entry %s: %w", a.ID, err)
		}
		rows = append(rows, row)
	}
	return db.RowsOf(rows), nil
}

// auditRow maps one audit log entry to its row (entity.AuditLog's columns, in order).
func auditRow(a *engageclient.AuditLog, redact []string) (db.StreamRow, error) {
	redactIP := slices.Contains(redact, "source_ip")
	raw, err := scrubAuditRaw(a.Raw, redactIP)
	if err != nil {
		return db.StreamRow{}, err
	}
	changes, err := auditChanges(a.Changes)
	if err != nil {
		return db.StreamRow{}, err
	}
	var userID, userName, sourceIP *string
	if u := a.AuthUser; u != nil {
		userID, userName, sourceIP = u.UserID, u.UserName, u.SourceID
	}
	if redactIP {
		sourceIP = nil
	}
	var created any
	if a.CreateTime != nil {
		created = *a.CreateTime
	}
	return db.StreamRow{
		Key: []any{a.ID},
		Vals: []any{a.ActionType, auditedClass(a.AuditedClass), a.AuditedEntityID, a.AuditedEntityDescription,
			created, userID, userName, sourceIP, changes},
		Raw: raw,
	}, nil
}

// auditedClass is the last segment of the audited Java class name
// ("com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Gate" is Gate).
func auditedClass(c *string) *string {
	if c == nil {
		return nil
	}
	s := *c
	if i := strings.LastIndexByte(s, '.'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	return &s
}

// auditChange is one element of audit_log.changes.
type auditChange struct {
	Attribute     string          `json:"attribute"`
	OriginalValue json.RawMessage `json:"original_value,omitempty"`
	NewValue      json.RawMessage `json:"new_value,omitempty"`
	ClassType     *string         `json:"class_type,omitempty"`
}

// auditChanges is the changes column: each changed attribute with its original and new value,
// except that a secret-bearing attribute (the key rule, secretjson.IsSecretKey: password,
// sipPassword, apiKey, ...) keeps its name and loses both values. nil (SQL NULL) when the entry
// lists no change.
func auditChanges(cs []engageclient.AuditLogChange) ([]byte, error) {
	if len(cs) == 0 {
		return nil, nil
	}
	out := make([]auditChange, len(cs))
	for i, c := range cs {
		out[i] = auditChange{Attribute: c.AttributeName, ClassType: c.ClassType}
		if !secretjson.IsSecretKey(c.AttributeName) {
			out[i].OriginalValue, out[i].NewValue = c.OriginalValue, c.NewValue
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encoding auditLogResultList: %w", err)
	}
	return b, nil
}

// scrubAuditRaw returns an entry's raw JSON without what the key rule alone would keep: the
// values of a secret-bearing attribute in auditLogResultList (the attribute's name is a value
// there, not a key), the secret-bearing keys of an affectedEntityJson sent as a JSON string,
// and, when redactIP, authUser.sourceId. The store's scrub then removes secret-bearing keys at
// any depth.
func scrubAuditRaw(raw []byte, redactIP bool) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decoding the entry: %w", err)
	}
	for key, scrub := range map[string]func(json.RawMessage) (json.RawMessage, error){
		"auditLogResultList": scrubResultList,
		"affectedEntityJson": scrubEntityString,
	} {
		if v, ok := obj[key]; ok {
			clean, err := scrub(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			obj[key] = clean
		}
	}
	if u, ok := obj["authUser"]; ok && redactIP {
		var user map[string]json.RawMessage
		if json.Unmarshal(u, &user) == nil && user != nil {
			delete(user, "sourceId")
			b, err := json.Marshal(user)
			if err != nil {
				return nil, err
			}
			obj["authUser"] = b
		}
	}
	return json.Marshal(obj)
}

// scrubResultList drops originalValue and newValue from the items of auditLogResultList whose
// attributeName is secret-bearing; anything but an array is kept as it is.
func scrubResultList(list json.RawMessage) (json.RawMessage, error) {
	if !bytes.HasPrefix(bytes.TrimSpace(list), []byte("[")) {
		return list, nil
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, err
	}
	for _, it := range items {
		var name string
		if json.Unmarshal(it["attributeName"], &name) == nil && secretjson.IsSecretKey(name) {
			delete(it, "originalValue")
			delete(it, "newValue")
		}
	}
	return json.Marshal(items)
}

// scrubEntityString scrubs an affectedEntityJson sent as a string holding JSON as the object it
// holds. [I] The spec types it an object and the sample sends null; a string holding JSON (its
// name suggests one) is what the fake serves. Anything else is kept for the store's scrub.
func scrubEntityString(v json.RawMessage) (json.RawMessage, error) {
	var s string
	if json.Unmarshal(v, &s) != nil || !json.Valid([]byte(s)) {
		return v, nil
	}
	clean, err := secretjson.Scrub([]byte(s))
	if err != nil {
		return nil, err
	}
	return json.Marshal(string(clean))
}

// streamReaders are the reads of each stream's windows, by stream.
var streamReaders = map[entity.Name]func(context.Context, StreamClient, *windowRead) (iter.Seq2[db.StreamRow, error], error){
	entity.AuditLog:            readAuditLog,
	entity.InteractionSegments: readInteractionSegments,
	entity.QueueStats:          readQueueStats,
	entity.AgentStats:          readAgentStats,
	entity.AgentQueueStats:     readAgentQueueStats,
}
