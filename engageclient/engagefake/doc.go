// Package engagefake is a faithful in-process fake of the RingCentral token endpoints and the
// Engage Voice auth and admin endpoints, written from the API facts (not from engageclient), with
// a deterministic tenant generator, mutations and fault injection. Used by tests, benchmarks,
// `syncer demo` and `syncer fake-engage`.
package engagefake
