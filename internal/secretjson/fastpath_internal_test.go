package secretjson

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// Scrub's shortcut for documents that spell no secret word leaves them exactly as the full
// scan does: compacted and repaired, byte for byte.
func TestScrubNothingIsScrubAll(t *testing.T) {
	docs := []string{
		`{"a":1}`,
		"{ \"dialogId\" : \"s-v-1\",\n \"n\": [1, 2, {\"x\": null}], \"ok\": true }",
		`{"segmentParticipantId":"449438","agentNotes":"requeue to others","hasRecording":true,"segmentEvents":[{"eventType":"REC_START"}]}`,
		`{"name":"café","bad":"` + "\xff\xfe" + `"}`,
		`[1,"two",{"three":[4]}]`,
		`"just a string"`,
		`{"nested":{"deeper":{"deepest":"value ☎"}},"empty":{},"list":[]}`,
	}
	for i, d := range docs {
		if maySpellSecret([]byte(d)) {
			t.Fatalf("doc %d spells a secret word: the test needs documents the shortcut takes", i)
		}
		fast, ok := scrubNothing([]byte(d), false)
		if !ok {
			t.Fatalf("doc %d: the shortcut refused it", i)
		}
		slow, err := scrubAll([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fast, slow) {
			t.Errorf("doc %d: shortcut %q, full scan %q", i, fast, slow)
		}
		decoded, err := ScrubDecoded([]byte(d))
		if err != nil || !bytes.Equal(decoded, slow) {
			t.Errorf("doc %d: ScrubDecoded %q, %v; full scan %q", i, decoded, err, slow)
		}
	}
	for d, want := range map[string]bool{`{"a":"b c","d":1}`: true, `{"a": 1}`: false, `{"a":"x\\"," b":2}`: true,
		`{"a":"x\"y", "b":2}`: false, "[1,\n2]": false, `"s p a c e"`: true} {
		if got := isCompact([]byte(d)); got != want {
			t.Errorf("isCompact(%s) = %v, want %v", d, got, want)
		}
	}
	for _, d := range []string{`{"api\u004bey":"k"}`, `{"a":"\u0000"}`, strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), `{"password":"x"}`, `{"apiKey":"x"}`, `{"PIN":"1"}`, `{"a":"my token"}`, `{"sipPass":"x"}`, `{"JWT":1}`, ``, `{"a":`} {
		if _, ok := scrubNothing([]byte(d), false); ok {
			t.Errorf("the shortcut took %q", d)
		}
	}
	// Every secret word a key can end with is spelled by a needle.
	for _, w := range append(append([]string{"pass"}, secretLastWords...), "apiKey", "privateKey", "pinCode") {
		if !maySpellSecret([]byte(fmt.Sprintf(`{"x%s":1}`, w))) {
			t.Errorf("%s is not caught by the needles", w)
		}
	}
}
