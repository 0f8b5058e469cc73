package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func TestFormatFlag(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: nil, want: formatText},
		{args: []string{"--output", "json"}, want: formatJSON},
		{args: []string{"--output=text"}, want: formatText},
		{args: []string{"--output", "yaml"}, wantErr: `invalid argument "yaml" for "--output" flag: must be one of text, json`},
		{args: []string{"--output", "markdown"}, wantErr: `invalid argument "markdown" for "--output" flag: must be one of text, json`},
	} {
		cmd := &cobra.Command{Use: "x", RunE: func(*cobra.Command, []string) error { return nil }}
		f := addFormatFlag(cmd, formatJSON)
		cmd.SetArgs(tt.args)
		cmd.SetOut(&bytes.Buffer{})
		cmd.SetErr(&bytes.Buffer{})
		err := cmd.Execute()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: error %v, want it to hold %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !f.is(tt.want) {
			t.Errorf("%v: format %q, error %v; want %q", tt.args, f, err, tt.want)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeJSON(&b, "the thing", map[string]int{"b": 2, "a": 1}); err != nil {
		t.Fatal(err)
	}
	if want := "{\n  \"a\": 1,\n  \"b\": 2\n}\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	var v map[string]int
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(&b, "the thing", func() {}); err == nil || !strings.Contains(err.Error(), "writing the thing") {
		t.Errorf("error %v, want one naming what was written", err)
	}
}
