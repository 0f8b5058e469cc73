package engageclient

// The former names of three defaults (config.go), kept until the syncer's configuration reads
// the <Field>Default names. Nothing else uses them.
const (
	// Deprecated: use ConcurrencyDefault.
	DefaultConcurrency = ConcurrencyDefault
	// Deprecated: use MaxRetryWaitDefault.
	DefaultMaxRetryWait = MaxRetryWaitDefault
	// Deprecated: use MaxListingRowsDefault.
	DefaultMaxListingRows = MaxListingRowsDefault
)
