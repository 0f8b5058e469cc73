package httpaccept

import "testing"

func TestAdmits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		accept []string
		mt     string
		want   bool
	}{
		{nil, "text/plain", true},
		{[]string{""}, "text/plain", true},
		{[]string{"application/json"}, "text/plain", false},
		{[]string{"application/json"}, "application/json;charset=UTF-8", true},
		{[]string{"text/plain, */*"}, "text/plain", true},
		{[]string{"application/json, */*;q=0.1"}, "text/plain", true},
		{[]string{"text/*"}, "text/plain", true},
		{[]string{"TEXT/PLAIN"}, "text/plain", true},
		{[]string{"text/plain;q=0", "application/json"}, "text/plain", false},
		{[]string{"text/plain;q=0.000"}, "text/plain", false},
		{[]string{"application/json", "text/plain"}, "text/plain", true},
	}
	for _, tt := range tests {
		if got := Admits(tt.accept, tt.mt); got != tt.want {
			t.Errorf("Admits(%q, %q) = %v, want %v", tt.accept, tt.mt, got, tt.want)
		}
	}
}
