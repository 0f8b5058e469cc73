package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// ListAccounts lists the (sub-)accounts visible to the caller:
// GET /voice/api/v1/admin/accounts. When some items cannot be decoded, the others are returned
// with an error matching *ItemsError.
func (c *Client) ListAccounts(ctx context.Context) ([]*Account, *Response, error) {
	items, resp, err := list[Account](ctx, c, "voice/api/v1/admin/accounts", nil)
	if err != nil {
		return items, resp, fmt.Errorf("listing accounts: %w", err)
	}
	return items, resp, nil
}

// Account is one row of GET /voice/api/v1/admin/accounts: a (sub-)account with its main
// account. Unknown fields are kept in Raw.
type Account struct {
	AccountID       string       // sub-account id (number or string in JSON)
	AccountName     *string      // accountName
	MainAccountID   string       // mainAccountId, or mainAccount.mainAccountId when only nested
	MainAccountName *string      // mainAccountName, or mainAccount.mainAccountName
	ArchivedAccount *bool        // archivedAccount
	StartDate       Time         // startDate
	EndDate         Time         // endDate
	MainAccount     *MainAccount // nested mainAccount object when present
	Raw             json.RawMessage
}

type accountWire struct {
	AccountID       nullID       `json:"accountId"`
	AccountName     nullStr      `json:"accountName"`
	MainAccountID   nullID       `json:"mainAccountId"`
	MainAccountName nullStr      `json:"mainAccountName"`
	ArchivedAccount nullBool     `json:"archivedAccount"`
	StartDate       Time         `json:"startDate"`
	EndDate         Time         `json:"endDate"`
	MainAccount     *MainAccount `json:"mainAccount"`
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (a *Account) UnmarshalJSON(b []byte) error {
	var w accountWire
	if err := unmarshalObject(b, &w, "account"); err != nil {
		return err
	}
	if !w.AccountID.Valid {
		return errors.New("accountId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*a = Account{
		AccountID:       w.AccountID.String,
		AccountName:     w.AccountName.Ptr(),
		MainAccountID:   w.MainAccountID.String,
		MainAccountName: w.MainAccountName.Ptr(),
		ArchivedAccount: w.ArchivedAccount.Ptr(),
		StartDate:       w.StartDate,
		EndDate:         w.EndDate,
		MainAccount:     w.MainAccount,
		Raw:             raw,
	}
	if m := a.MainAccount; m != nil {
		if a.MainAccountID == "" {
			a.MainAccountID = m.MainAccountID
		}
		if a.MainAccountName == nil {
			a.MainAccountName = m.MainAccountName
		}
	}
	if a.MainAccountID == "" {
		// A sub-account belongs to a main account (the table's foreign key): without one it
		// cannot be stored, and only its item fails.
		return errors.New("mainAccountId is missing")
	}
	return nil
}

// MainAccount is the nested mainAccount object of an Account.
type MainAccount struct {
	MainAccountID   string  // mainAccountId
	MainAccountName *string // mainAccountName
	RCAccountID     *string // rcAccountId (the RingCentral account id)
	Raw             json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler.
func (m *MainAccount) UnmarshalJSON(b []byte) error {
	var w struct {
		MainAccountID   nullID  `json:"mainAccountId"`
		MainAccountName nullStr `json:"mainAccountName"`
		RCAccountID     nullID  `json:"rcAccountId"`
	}
	if err := unmarshalObject(b, &w, "main account"); err != nil {
		return err
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*m = MainAccount{
		MainAccountID:   w.MainAccountID.String,
		MainAccountName: w.MainAccountName.Ptr(),
		RCAccountID:     w.RCAccountID.Ptr(),
		Raw:             raw,
	}
	return nil
}
