package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Terminal size assumed when the terminal does not tell its own.
const (
	termWidthDefault  = 80
	termHeightDefault = 24
)

// isTerminal reports whether w is a terminal. A character device is not enough: /dev/null is
// one, and is no terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termSize is the size of the terminal f in columns and rows, 80×24 when unknown.
func termSize(f *os.File) (width, height int) {
	w, h, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return termWidthDefault, termHeightDefault
	}
	if h <= 0 {
		h = termHeightDefault
	}
	return w, h
}
